"""Browser fixtures: Debian's Chromium driven by Playwright, against the real server.

No browser is ever downloaded: the tests use Debian's /usr/bin/chromium and fail without it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright import async_api as playwright_api

from evhub.web.console import VENDOR_DIR
from tests.screenshots import SCREENSHOTS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip

# A skipped browser suite would pass a run that never looked at a page: fail instead, with the
# command that fixes it (`make test` installs Chromium itself where it may).
if not CHROMIUM.exists():
    pytest.fail(
        "the browser tests need Debian's Chromium at /usr/bin/chromium: "
        "sudo apt-get install -y chromium",
        pytrace=False,
    )
if not all((VENDOR_DIR / name).exists() for name in ("htmx.min.js", "leaflet.js")):
    pytest.fail("console assets not built: run `make web-assets`", pytrace=False)


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    async with playwright_api.async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
