"""``python -m lockbench``: the same command line as the ``lockbench`` script (also what
``accelerate launch -m lockbench lock train ...`` runs)."""

import sys

from lockbench.cli import main

sys.exit(main())
