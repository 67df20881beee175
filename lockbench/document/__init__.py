"""The lockbench-result document: read from lm-eval output, validated, re-scored and recomputed,
summarised. Nothing here publishes (see :mod:`lockbench.publish`)."""
