"""Glue between lockbench and lm-evaluation-harness: docs per condition, per-sample metrics."""
