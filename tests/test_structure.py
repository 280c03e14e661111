"""The house's structure, read from the source (ast, nothing imported): no import circle, and the
library built in floors that only import downwards.

The rule:
- Every module of `lstm_viz/` sits on one floor of `FLOORS` (a new module must be placed). A
  module imports modules of its own floor or of floors below it, never above, whether the
  import is at the top of the file or inside a function.
- The one exception is a facade method, like pandas' `DataFrame.plot`: a method of a low-floor
  class that imports its view module when called, so the class can offer the view without
  depending on it. Each is declared in `FACADES` (module, function, imported module) and must be
  an import inside that function, with the reason in the module's docstring.
- Imports between the house's modules (`lstm_viz/`, `ui/`, `app.py`, `pages/`), facades left
  out, form no circle, counting imports inside functions too: an import moved into a function
  to dodge a load-time cycle is still a cycle here.
- The library never imports Streamlit, plotly, or the app (`ui`, `app`, `pages`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FLOORS = [  # lowest first
    ("basics", {"checks", "cells", "vocab", "glyphs", "colour", "data", "match", "resume", "reference", "threads"}),
    ("kernels", {"edits", "kernel"}),
    ("trace", {"trace", "batch"}),
    ("model", {"model"}),
    ("views", {"render", "figures", "notebook"}),
    (
        "tools",
        {
            "checkpoint",
            "importers",
            "archive",
            "evaluate",
            "intervene",
            "ablation",
            "attribute",
            "features",
            "finder",
            "hypotheses",
            "service",
        },
    ),
    ("analyses", {"ngram", "analysis", "train", "explainer", "cellpage", "runs"}),
    ("commands", {"analysis_report", "bench", "sweep", "launch", "cli", "__main__", "__init__"}),
]
FACADES = {  # (module, function, imported module): views a Trace offers as methods
    ("lstm_viz.trace", "Trace.to_html", "lstm_viz.render"),
    ("lstm_viz.trace", "Trace._repr_html_", "lstm_viz.render"),
    ("lstm_viz.trace", "Trace.figure", "lstm_viz.figures"),
    ("lstm_viz.trace", "Trace.show", "lstm_viz.notebook"),
}
NOT_IN_THE_LIBRARY = ("streamlit", "plotly", "ui", "app", "pages")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts)


def house() -> dict[str, Path]:
    paths = [
        *(ROOT / "lstm_viz").glob("*.py"),
        *(ROOT / "ui").glob("*.py"),
        ROOT / "app.py",
        *(ROOT / "pages").glob("*.py"),
    ]
    return {module_name(p): p for p in paths if p.is_file()}


def imports(name: str, path: Path, modules) -> list[tuple[str, str | None]]:
    """(imported name, enclosing function or None at load time) of every import in a file;
    `from package import module` counts as the module when it is one of `modules`."""
    package = name.rpartition(".")[0]
    found = []

    def visit(node, where):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, f"{where}.{child.name}" if where else child.name)
            elif isinstance(child, ast.Import):
                found.extend((alias.name, where) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    up = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(up + ([child.module] if child.module else []))
                for alias in child.names:
                    sub = f"{base}.{alias.name}"
                    found.append((sub if sub in modules else base, where))
            else:
                visit(child, where)

    visit(ast.parse(path.read_text(encoding="utf-8")), None)
    # `where` is a class name for imports in a class body (loaded with the module): keep only functions
    return [(target, where if where and in_function(path, where) else None) for target, where in found]


def in_function(path: Path, qualname: str) -> bool:
    node = ast.parse(path.read_text(encoding="utf-8"))
    for part in qualname.split("."):
        node = next(
            n
            for n in ast.iter_child_nodes(node)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == part
        )
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))


def canonical(target: str, modules) -> str:
    """The house module an import loads (`lstm_viz` is its `__init__`), or the outside package."""
    if target in modules:
        return target
    if f"{target}.__init__" in modules:
        return f"{target}.__init__"
    return target


@pytest.fixture(scope="module")
def graph() -> dict[str, list[tuple[str, str | None]]]:
    """module -> [(imported house module or outside package, enclosing function or None)]."""
    modules = house()
    return {
        name: [(canonical(t, modules), where) for t, where in imports(name, path, modules)]
        for name, path in modules.items()
    }


def floor(module: str) -> int:
    short = module.split(".", 1)[1]
    return next(i for i, (_, names) in enumerate(FLOORS) if short in names)


def test_every_library_module_sits_on_exactly_one_floor():
    modules = sorted(p.stem for p in (ROOT / "lstm_viz").glob("*.py"))
    placed = [name for _, names in FLOORS for name in names]
    assert sorted(placed) == modules, "place new library modules in FLOORS (and drop gone ones)"


def test_the_library_imports_only_downwards_but_for_the_declared_facades(graph):
    upward = []
    for module, edges in graph.items():
        if not module.startswith("lstm_viz."):
            continue
        for target, where in edges:
            if (
                target.startswith("lstm_viz.")
                and floor(target) > floor(module)
                and (module, where, target) not in FACADES
            ):
                upward.append(
                    f"{module} ({where or 'at load time'}) imports {target}, a higher floor: "
                    f"{FLOORS[floor(module)][0]} < {FLOORS[floor(target)][0]}"
                )
    assert not upward, "\n".join(upward)


def test_every_declared_facade_is_an_import_inside_its_method(graph):
    for module, where, target in FACADES:
        assert (target, where) in graph[module], f"{module}.{where} does not import {target} (update FACADES)"
        assert (target, None) not in graph[module], f"{module} imports {target} at load time"


def test_the_house_has_no_import_circle(graph):
    edges = {m: sorted({t for t, where in e if t in graph and (m, where, t) not in FACADES}) for m, e in graph.items()}
    circles, state = [], {}

    def walk(module, path):
        state[module] = "open"
        for target in edges[module]:
            if state.get(target) == "open":
                circles.append(" -> ".join(path[path.index(target) :] + [target]))
            elif target not in state:
                walk(target, path + [target])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            walk(module, [module])
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_the_library_never_imports_streamlit_plotly_or_the_app(graph):
    bad = [
        f"{m} imports {t}"
        for m, e in graph.items()
        if m.startswith("lstm_viz.")
        for t, _ in e
        if t.split(".")[0] in NOT_IN_THE_LIBRARY
    ]
    assert not bad, "\n".join(bad)


def test_the_checks_find_what_they_look_for(tmp_path):
    """The parser sees imports at load time, inside functions and methods, relative and absolute."""
    source = (
        "import numpy\nfrom . import colour\nfrom .kernel import GATES\n"
        "class A:\n    from .vocab import Vocab\n    def f(self):\n        from .render import to_html\n"
        "def g():\n    import lstm_viz.trace\n"
    )
    path = tmp_path / "probe.py"
    path.write_text(source)
    modules = {"lstm_viz.colour", "lstm_viz.kernel", "lstm_viz.vocab", "lstm_viz.render", "lstm_viz.trace"}
    assert imports("lstm_viz.probe", path, modules) == [
        ("numpy", None),
        ("lstm_viz.colour", None),
        ("lstm_viz.kernel", None),
        ("lstm_viz.vocab", None),
        ("lstm_viz.render", "A.f"),
        ("lstm_viz.trace", "g"),
    ]
