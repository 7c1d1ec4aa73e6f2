"""The package's shape: docs/modules.md against the code, and no import circle.

Every module of ``xpbackprop/`` has a row in the module map; every import of another module of
the package (at the top or inside a function) is one its row allows; the import graph has no
circle; and no module uses another module's private (underscored) names.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "xpbackprop"
MAP = ROOT / "docs" / "modules.md"


def _modules() -> dict[str, Path]:
    """``{"network": path, "fast/_numpy": path, "fast/__init__": path, ...}`` for every module."""
    return {str(p.relative_to(PACKAGE).with_suffix("")): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module: str, level: int, name: str | None, known: set[str]) -> str | None:
    """The package module that ``from <level dots><name> import ...`` in ``module`` names."""
    parts = module.split("/")[: -level] if level else []
    if name:
        parts += name.split(".")
    target = "/".join(parts)
    if target in known:
        return target
    if f"{target}/__init__".lstrip("/") in known:
        return f"{target}/__init__".lstrip("/")
    return None


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``module`` imports, anywhere in its body."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = _resolve(module, node.level, node.module, known)
            for alias in node.names:  # `from . import fast`: the subpackage or module itself
                dotted = f"{node.module}.{alias.name}" if node.module else alias.name
                sub = _resolve(module, node.level, dotted, known)
                found.add(sub or base)
        elif isinstance(node, ast.Import):
            found.update("__init__" for alias in node.names if alias.name == "xpbackprop")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("xpbackprop"):
            inner = node.module.removeprefix("xpbackprop").lstrip(".")
            found.add(_resolve("", 0, inner, known) or "__init__")
    found.discard(None)
    found.discard(module)
    return found


def _table() -> dict[str, set[str]]:
    rows = {}
    for line in MAP.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and cells[0].endswith(".py`"):
            name = cells[0].strip("`").removesuffix(".py")
            rows[name] = set(re.findall(r"`([\w/]+)`", cells[2]))
    return rows


def test_the_module_map_lists_every_module_and_its_imports():
    modules, table = _modules(), _table()
    assert set(table) == set(modules), (
        f"modules without a row: {sorted(set(modules) - set(table))}; "
        f"rows without a module: {sorted(set(table) - set(modules))}"
    )
    known = set(modules)
    for name, path in modules.items():
        extra = _imports(name, path, known) - table[name]
        assert not extra, f"{name} imports {sorted(extra)}, which docs/modules.md does not allow it"


def test_no_import_circle():
    modules = _modules()
    graph = {name: _imports(name, path, set(modules)) for name, path in modules.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError(f"import circle: {' -> '.join([*trail[trail.index(nxt):], nxt])}")
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def _private_uses(path: Path, known_modules: set[str]) -> list[str]:
    """``module._name`` and ``from .module import _name`` of another module's private names."""
    tree = ast.parse(path.read_text())
    aliases = {}  # local name -> package module it stands for
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            for alias in node.names:
                if alias.name in known_modules:  # a module (a package's private modules too)
                    aliases[alias.asname or alias.name] = alias.name
                elif alias.name.startswith("_") and not alias.name.startswith("__"):
                    out.append(f"from {'.' * node.level}{node.module or ''} import {alias.name}")
    for node in ast.walk(tree):
        private = (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                   and not node.attr.startswith("__"))
        if private and isinstance(node.value, ast.Name) and node.value.id in aliases:
            out.append(f"{node.value.id}.{node.attr}")
    return out


def test_no_module_uses_another_modules_private_names():
    modules = _modules()
    names = {name.split("/")[-1] for name in modules} - {"__init__"}
    found = {name: uses for name, path in modules.items() if (uses := _private_uses(path, names))}
    assert not found, f"private names of other modules in use: {found}"
