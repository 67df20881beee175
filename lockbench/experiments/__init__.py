"""Long experiments run as commands (``lockbench experiment ...``), not as CI tests.

They sit at the commands layer: they reuse the demo's recipe and step helpers
(:mod:`lockbench.commands.demo`) and the library below it; only :mod:`lockbench.commands` imports them.
"""
