"""``python -m dorm.cli``."""

import sys

from dorm.cli import main

sys.exit(main())
