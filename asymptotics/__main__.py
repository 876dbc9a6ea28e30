"""``python -m asymptotics``: the command line (same as the ``asymptotics`` script)."""

import sys

from asymptotics.cli import main

sys.exit(main())
