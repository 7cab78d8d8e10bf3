"""`python -m metanumpy ...`: see metanumpy/cli.py.

Mistakes a user can fix (a bad flag value, a malformed data line, a missing file, a diverged
run, a missing optional package) are printed as one clear message, not as a traceback
(`cli.console`).
"""

import sys

from .cli import console

if __name__ == "__main__":
    sys.exit(console())
