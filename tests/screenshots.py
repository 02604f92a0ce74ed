"""Where tests save screenshots and rendered pages: `var/screenshots`, and a folder of its own
for a PostgreSQL run, so that the two runs of CI, side by side, never write the same file."""

from __future__ import annotations

import os
from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parents[1] / "var" / "screenshots"
if os.environ.get("EVHUB_TEST_DATABASE_URL"):
    SCREENSHOTS = SCREENSHOTS / "postgresql"
