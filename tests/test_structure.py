"""The app's layout keeps the promises of docs/architecture.md: dependencies point one way.

`resources/catalogue/` (public pages) imports neither `clinics` nor `editorial`, and no two
modules of the app import each other, not even through others (an import cycle is what made
`filters.py` and `personal.py` need an import inside a function).
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

APP = Path(settings.BASE_DIR) / "resources"


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The app modules this file imports, at any depth of the file (lazy imports count too)."""
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names = [f"{target}.{alias.name}" for alias in node.names]
            found |= {target, *names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {name for name in found if name.startswith("resources")}


def graph() -> dict[str, set[str]]:
    paths = [path for path in APP.rglob("*.py") if "migrations" not in path.parts]
    modules = {module_name(path): path for path in paths}
    return {
        name: {target for target in imports_of(path) if target in modules and target != name}
        for name, path in modules.items()
    }


def test_the_catalogue_depends_on_neither_clinics_nor_editorial():
    edges = graph()
    wrong = {
        (module, target)
        for module, targets in edges.items()
        if module.startswith("resources.catalogue")
        for target in targets
        if target.startswith(("resources.clinics", "resources.editorial"))
    }
    assert wrong == set()


def test_the_programmes_public_pages_depend_on_neither_clinics_nor_editorial():
    """The same promise for the programme finder's public pages (docs/architecture.md): only
    its workflow, admin and HSDS API reach into editorial and clinics."""
    edges = graph()
    public = {f"resources.programmes.{name}" for name in ("views", "filters", "support", "reports")}
    assert public <= set(edges)
    wrong = {
        (module, target)
        for module in public
        for target in edges[module]
        if target.startswith(("resources.clinics", "resources.editorial"))
    }
    assert wrong == set()


def test_no_import_cycle_in_the_app():
    edges = graph()
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        for target in sorted(edges.get(module, ())):
            if target in path:
                cycles.append([*path[path.index(target) :], target])
            elif target not in done:
                visit(target, [*path, target])
        done.add(module)

    done: set[str] = set()
    for module in sorted(edges):
        if module not in done:
            visit(module, [module])
    # Packages import their own modules (resources.clinics -> resources.clinics.api): not cycles.
    real = [cycle for cycle in cycles if not all(cycle[0].startswith(m) for m in cycle)]
    assert real == []
