"""One module per ``lockbench`` sub-command (see lockbench/cli.py)."""
