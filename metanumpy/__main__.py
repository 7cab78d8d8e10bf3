"""`python -m metanumpy ...`: see metanumpy/cli.py.

Mistakes a user can fix (a bad flag value, a malformed data line, a missing file, a diverged
run, a missing optional package) are printed as one clear message, not as a traceback.
"""

import sys

from .cli import main
from .meta import TrainingDiverged

if __name__ == "__main__":
    try:
        code = main()  # an exit code (assignments), or results for callers of cli.main
    except (ValueError, FileNotFoundError, ImportError, TrainingDiverged) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
