"""A paste, timed on this checkout and on another commit side by side: whether the page got slower.

    .venv/bin/python benchmarks/paste_ab.py --against REV [--pastes 7] [--chars 2000] [--rounds 2] [--tab LABEL]

Checks REV out into a temporary git worktree (its own code and shipped models) and, round after
round, starts `streamlit run app.py` in each tree in turn (this one, then REV) and times --pastes
pastes of --chars characters of the example texts in one Chromium page (a first paste warms the
server and is not counted): from Ctrl+Enter to the frame that shows the new text coloured, as
browser_bench times its paste (the view's `data-shown-at` stamp, taken in the page). Each tree's
figure is the median of its pastes, with the median time the page's main thread was busy meanwhile
(Chrome's TaskDuration: Streamlit's own rendering and the views); the ratio is this tree's over
REV's, of the medians of all rounds. With --tab (say "Compare kinds"), that tab below the text is
opened first and a paste is timed to the last of the page's coloured texts to show it.
Only what both versions share is used (the first text box, the view's data attributes), so any
commit since the view stamped its frames can be compared. The load average is printed: the
machine is shared, and both trees run under the same load only when run in the same rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.browser_bench import KEY_AT, VIEW_ROOTS, bench_text
from tests.browser.harness import ROOT, app_server, chromium, wait_idle, wait_view

SHOWN = f"() => ({VIEW_ROOTS}).map((r) => r.dataset.shown)"  # what each coloured text on the page shows now
# Milliseconds from Ctrl+Enter to the last of them drawing something new, or null while one has not.
ALL_NEW = f"""(before) => {{
  const roots = {VIEW_ROOTS};
  if (!roots.length || roots.some((r) => !r.dataset.shown || before.includes(r.dataset.shown))) return null;
  return Math.max(...roots.map((r) => Number(r.dataset.shownAt))) - window.__pressed;
}}"""


def paste_seconds(browser, root: Path, texts: list[str], tab: str | None = None) -> tuple[list[float], list[float]]:
    """Seconds from Ctrl+Enter to each text coloured (in every coloured text on the page, with the
    tab `tab` open), in one page on a server of the tree `root`, and the seconds the page's main
    thread was busy meanwhile (Chrome's TaskDuration)."""
    with app_server(root=root, timeout=120) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")

        def busy() -> float:
            return next(
                m["value"] for m in cdp.send("Performance.getMetrics")["metrics"] if m["name"] == "TaskDuration"
            )

        page.goto(url)
        wait_view(page, timeout=120_000)
        wait_idle(page)
        if tab:
            page.get_by_role("tab", name=tab).click()
            wait_idle(page, timeout=120_000)
        out, work = [], []
        for text in texts:
            box = page.locator("textarea").first
            box.fill(text)
            page.evaluate(KEY_AT)
            before = page.evaluate(SHOWN)
            time.sleep(0.3)  # the page settles after typing, as a person pausing before Ctrl+Enter
            started = busy()
            box.press("Control+Enter")
            # Polled every 100 ms, not every frame (which would load the page it times): the times are the page's own.
            handle = page.wait_for_function(ALL_NEW, arg=before, timeout=120_000, polling=100)
            work.append(busy() - started)
            out.append(handle.json_value() / 1000)
            wait_idle(page, timeout=120_000)
        page.close()
    return out[1:], work[1:]  # the first warmed the server up


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--against", required=True, help="the commit to compare with (any git revision)")
    ap.add_argument("--pastes", type=int, default=7, help="timed pastes per tree and round")
    ap.add_argument("--chars", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--tab", default=None, help='the tab below the text to open first (say "Compare kinds")')
    a = ap.parse_args()
    texts = [bench_text(a.chars, seed) for seed in range(1, a.pastes + 2)]
    with tempfile.TemporaryDirectory() as folder:
        other = Path(folder) / "other"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(other), a.against], check=True)
        try:
            medians: dict[str, list[float]] = {"this": [], a.against: []}
            where = f", tab {a.tab!r} open" if a.tab else ""
            print(f"load {os.getloadavg()[0]:.2f}; {a.pastes} pastes of {a.chars:,} chars per tree and round{where}")
            with chromium() as browser:
                for k in range(a.rounds):
                    for name, root in (("this", ROOT), (a.against, other)):
                        seconds, work = paste_seconds(browser, root, texts, a.tab)
                        medians[name].append(statistics.median(seconds))
                        shown = " ".join(f"{s:.3f}" for s in seconds)
                        print(
                            f"round {k + 1} {name:>12}: median {medians[name][-1]:.3f} s ({shown}); "
                            f"page busy {statistics.median(work):.3f} s a paste",
                            flush=True,
                        )
            ours, theirs = statistics.median(medians["this"]), statistics.median(medians[a.against])
            print(
                f"this / {a.against}: {ours:.3f} / {theirs:.3f} s = {ours / theirs:.2f}; load {os.getloadavg()[0]:.2f}"
            )
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(other)], check=False)


if __name__ == "__main__":
    main()
