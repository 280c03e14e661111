"""The house's structure, read from the source (ast, nothing imported): the folders are the
layers, no import circle, and each layer imports only from itself and the layers below it.

The rule:
- `lstm_viz/` and `ui/` are built of subpackages, their layers, listed lowest first in the
  package's `LAYERS` (its `__init__.py`): every subpackage is a layer, every layer a subpackage
  whose docstring says what it holds, and a module sits in a layer, not deeper. The package's few
  top-level modules (lstm_viz's commands, ui's page and panels) stand above every layer.
- A module imports modules of its own layer or of layers below it, never above, whether the
  import is at the top of the file or inside a function.
- The one exception is a facade method, like pandas' `DataFrame.plot`: a method of a low-layer
  class that imports its view module when called, so the class can offer the view without
  depending on it. Each is declared in `FACADES` (module, function, imported module) and must be
  an import inside that function, with the reason in the module's docstring.
- Imports between the house's modules (`lstm_viz/`, `ui/`, `app.py`, `pages/`), facades left
  out, form no circle, counting imports inside functions too: an import moved into a function
  to dodge a load-time cycle is still a cycle here.
- The library never imports Streamlit, plotly, or the app (`ui`, `app`, `pages`).
- The library is a package layout: at most 8 top-level modules, at least 5 subpackages.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("lstm_viz", "ui")  # each built in layers: its subpackages, in the order of its LAYERS
MAX_TOP_LEVEL_MODULES, MIN_SUBPACKAGES = 8, 5  # the library's package layout
FACADES = {  # (module, function, imported module): views a Trace offers as methods
    ("lstm_viz.core.trace", "Trace._repr_html_", "lstm_viz.views.render"),
    ("lstm_viz.core.trace", "Trace.figure", "lstm_viz.views.figures"),
    ("lstm_viz.core.trace", "Trace.show", "lstm_viz.views.notebook"),
    ("lstm_viz.core.trace", "Trace.to_html", "lstm_viz.views.render"),
    *(("lstm_viz.core.trace", f"Trace.{name}", "lstm_viz.views.view") for name in ("figure", "show", "to_html")),
}
NOT_IN_THE_LIBRARY = ("streamlit", "plotly", "ui", "app", "pages")


@cache
def layers(package: str) -> tuple[str, ...]:
    """The package's layers, lowest first: `LAYERS` in its __init__.py."""
    tree = ast.parse((ROOT / package / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "LAYERS" for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise AssertionError(f"{package}/__init__.py declares no LAYERS")


def subpackages(package: str) -> list[str]:
    return sorted(p.parent.name for p in (ROOT / package).glob("*/__init__.py"))


def top_level_modules(package: str) -> list[str]:
    return sorted(p.stem for p in (ROOT / package).glob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts)


def house() -> dict[str, Path]:
    paths = [
        *(p for package in PACKAGES for p in (ROOT / package).rglob("*.py")),
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
    """The house module an import loads (a package is its `__init__`), or the outside package."""
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
    """A module's place in its package: its layer's index in LAYERS, or above them all at the top."""
    package, *rest = module.split(".")
    if len(rest) == 1:
        return len(layers(package))
    assert rest[0] in layers(package), f"{module}: {package}/{rest[0]}/ is not in {package}.LAYERS"
    return layers(package).index(rest[0])


def layer_name(module: str) -> str:
    package, *rest = module.split(".")
    return f"{package}.{rest[0]}" if len(rest) > 1 else f"{package} (top level)"


@pytest.mark.parametrize("package", PACKAGES)
def test_the_layers_are_the_subpackages_each_saying_what_it_holds(package):
    order = layers(package)
    assert len(set(order)) == len(order), f"{package}.LAYERS names a layer twice"
    assert sorted(order) == subpackages(package), (
        f"list every subpackage of {package}/ in {package}.LAYERS, lowest first (and drop gone ones)"
    )
    for layer in order:
        doc = ast.get_docstring(ast.parse((ROOT / package / layer / "__init__.py").read_text(encoding="utf-8")))
        assert doc, f"{package}/{layer}/__init__.py: a docstring saying what the layer holds"
    deeper = sorted(str(p.relative_to(ROOT)) for p in (ROOT / package).glob("*/*/*.py"))
    assert not deeper, f"a module sits in a layer, not below it: {deeper}"


def test_the_library_is_a_package_layout():
    modules, packages = top_level_modules("lstm_viz"), subpackages("lstm_viz")
    assert len(modules) <= MAX_TOP_LEVEL_MODULES, f"{len(modules)} top-level modules in lstm_viz/: {modules}"
    assert len(packages) >= MIN_SUBPACKAGES, f"{len(packages)} subpackages in lstm_viz/: {packages}"


@pytest.mark.slow
def test_each_layer_imports_only_from_itself_and_the_layers_below_but_for_the_declared_facades(graph):
    upward = []
    for module, edges in graph.items():
        package = module.split(".")[0]
        if package not in PACKAGES:
            continue
        for target, where in edges:
            if target not in graph or target.split(".")[0] != package or (module, where, target) in FACADES:
                continue
            if floor(target) > floor(module):
                upward.append(
                    f"{module} ({where or 'at load time'}) imports {target}, a higher layer: "
                    f"{layer_name(module)} < {layer_name(target)}"
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
    """The parser sees imports at load time, inside functions and methods, relative (within a layer
    and across layers) and absolute; the floors put a layer above those before it in LAYERS."""
    source = (
        "import numpy\nfrom . import colour\nfrom ..core.kernel import GATES\n"
        "class A:\n    from ..core import vocab\n    def f(self):\n        from .render import to_html\n"
        "def g():\n    import lstm_viz.core.trace\n"
    )
    path = tmp_path / "probe.py"
    path.write_text(source)
    modules = {
        "lstm_viz.views.colour",
        "lstm_viz.core.kernel",
        "lstm_viz.core.vocab",
        "lstm_viz.views.render",
        "lstm_viz.core.trace",
    }
    assert imports("lstm_viz.views.probe", path, modules) == [
        ("numpy", None),
        ("lstm_viz.views.colour", None),
        ("lstm_viz.core.kernel", None),
        ("lstm_viz.core.vocab", None),
        ("lstm_viz.views.render", "A.f"),
        ("lstm_viz.core.trace", "g"),
    ]
    order = layers("lstm_viz")
    assert floor(f"lstm_viz.{order[0]}.x") < floor(f"lstm_viz.{order[-1]}.x") < floor("lstm_viz.cli")
