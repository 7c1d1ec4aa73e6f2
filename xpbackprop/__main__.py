"""``python -m xpbackprop`` / ``xpbackprop``: the command line of :mod:`xpbackprop.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
