"""``python -m alignkg``."""

import sys

from alignkg.cli import main

sys.exit(main())
