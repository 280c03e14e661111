"""Take docs/screenshot.png: the app as a first-time visitor sees it, with a hover card open.

.venv/bin/python tests/browser/screenshot.py [--out docs/screenshot.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.browser.harness import ROOT, TEXT_VIEW, app_server, chromium, wait_idle, wait_view
from ui.session.examples import EXAMPLES


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    a = ap.parse_args()
    text = EXAMPLES["dialogue"].text
    with app_server() as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1120}, device_scale_factor=1)
        page.goto(url + f"/?pos={text.index('war,')}")
        wait_view(page)
        wait_idle(page)
        # a character of the first line: its hover card opens over the text, not over the tabs below it
        page.locator(f"{TEXT_VIEW} .line.main .ch").nth(text.index("march")).hover()
        page.locator(f"{TEXT_VIEW} .card").wait_for(state="visible")
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=a.out)
    print(a.out)


if __name__ == "__main__":
    main()
