"""``python -m llie_core.cli``."""

import sys

from llie_core.cli import main

sys.exit(main())
