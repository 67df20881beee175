"""``python -m lockbench`` (and ``accelerate launch -m lockbench lock train ...``)."""

import sys

from lockbench.cli import main

sys.exit(main())
