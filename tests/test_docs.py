"""The README is short and its links work; the documentation site covers every layer; no tracker numbers in the tree.

The site itself is built strictly by `make docs` (a broken link or reference fails it); these checks are the
quick ones, run by `make test-fast` too.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import lstm_viz

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
ISSUE_NUMBER = re.compile(r"[Ii]ssues? ?#?[0-9]+")


def relative_links(markdown: str) -> list[str]:
    """The targets of a Markdown text's links and images that point into the repository (no scheme, no anchor)."""
    targets = (m.group(1) for m in LINK.finditer(markdown))
    return [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


def test_the_readme_is_short():
    assert len(README.read_text().splitlines()) <= 300


def test_the_readme_gives_exactly_two_set_up_commands_make_run_and_make_test():
    text = README.read_text()
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", text, re.S)
    make_lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    assert sorted(line for line in make_lines if line.startswith("make ")) == ["make run", "make test"]


def test_every_relative_link_in_the_readme_points_to_a_file_in_the_repository():
    links = relative_links(README.read_text())
    assert links, "the README links into docs/"
    missing = [link for link in links if not (ROOT / link).exists()]
    assert not missing


def test_the_readme_links_to_the_documentation_pages():
    linked = {Path(link) for link in relative_links(README.read_text())}
    pages = {p.relative_to(ROOT) for p in DOCS.glob("*.md")}
    assert pages <= linked, sorted(map(str, pages - linked))


def test_the_api_reference_has_a_page_for_the_package_and_each_layer():
    config = yaml.safe_load((DOCS / "mkdocs.yml").read_text())
    nav = str(config["nav"])
    for layer in lstm_viz.LAYERS:
        page = DOCS / "reference" / f"{layer}.md"
        assert f"::: lstm_viz.{layer}" in page.read_text()
        assert f"reference/{layer}.md" in nav
    assert "::: lstm_viz" in (DOCS / "reference" / "index.md").read_text()


def test_every_guide_and_reference_page_is_in_the_site_navigation():
    nav = str(yaml.safe_load((DOCS / "mkdocs.yml").read_text())["nav"])
    pages = [p.relative_to(DOCS).as_posix() for p in [*DOCS.glob("*.md"), *DOCS.glob("reference/*.md")]]
    assert [p for p in pages if p not in nav] == []


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_no_tracked_text_file_names_a_tracker_issue_by_number():
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    hits = []
    for name in filter(None, files):
        path = ROOT / name.decode()
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary: weights, images
        hits += [f"{name.decode()}:{i}" for i, line in enumerate(text.splitlines(), 1) if ISSUE_NUMBER.search(line)]
    assert hits == []


def test_make_test_builds_the_site_strictly_counting_every_warning():
    makefile = (ROOT / "Makefile").read_text()
    lines = re.search(r"^docs:.*?\n((?:[\t#].*\n)+)", makefile, re.M).group(1).splitlines()
    recipe = "\n".join(line for line in lines if line.startswith("\t"))
    assert "mkdocs build --strict" in recipe
    assert "--quiet" not in recipe and " -q " not in recipe  # quiet mkdocs stops counting warnings
    for target in ("test", "test-fast"):
        assert "docs" in re.search(rf"^{target}:(.*)$", makefile, re.M).group(1).split()
