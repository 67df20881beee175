"""``python -m lockbench``: the same command line as the ``lockbench`` script."""

import sys

from lockbench.cli import main

sys.exit(main())
