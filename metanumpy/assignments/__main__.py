"""`python -m metanumpy.assignments ...` does what `python -m metanumpy assignments ...` does."""

import sys

from .cli import main

sys.exit(main())
