"""``python -m asymptotics``: the command line (same as the ``asymptotics`` script)."""

import sys

from asymptotics.cli import main

if __name__ == "__main__":
    sys.exit(main())
