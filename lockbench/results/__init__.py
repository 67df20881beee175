"""Results: reading lm-eval output, the lockbench-result document, statistics, summaries."""
