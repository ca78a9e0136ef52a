"""``python -m bench``: the one benchmark command (bench/driver.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from driver import main

sys.exit(main())
