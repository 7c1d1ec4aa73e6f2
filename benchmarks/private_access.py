"""Where a module of xpbackprop reaches into another module's private names; the import graph.

Counted (a private name: one leading underscore, not a dunder), from the source alone (AST):

- ``import``: ``from .x import _y``, a private name imported from another module of the package
  (``from . import _dask``, a private *module*, is listed apart and not counted);
- ``module``: ``x._y`` where ``x`` is a package module imported in this file (``_backend._y`` too);
- ``object``: ``obj._y`` (called or not) and ``getattr``/``hasattr``/``setattr(obj, "_y")``, where
  ``obj`` is not ``self``/``cls`` nor a package module, and another module of the package defines
  ``_y`` (a function, class, method, class attribute or ``obj._y =``), whether or not this file
  defines it too (the listing names the defining modules). Private names only this file defines
  count as its own (``same module``); names the package defines nowhere (a library's private API)
  are listed apart.

``--imports`` prints the import graph (module -> modules it imports; ``*`` marks imports made only
inside functions) and its cycles; ``--longest N`` the N longest functions (end_lineno - lineno + 1).

    python benchmarks/private_access.py [--imports] [--longest 15] [--package xpbackprop]
"""

from __future__ import annotations

import argparse
import ast
from collections import Counter, defaultdict
from pathlib import Path

ACCESSORS = {"getattr", "hasattr", "setattr", "delattr"}


def is_private(name: str) -> bool:
    """One leading underscore and not a dunder."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def modules(package: Path) -> dict[str, ast.Module]:
    """Every module of the package by name (``__init__`` for the package itself), parsed."""
    return {p.stem: ast.parse(p.read_text(), str(p)) for p in sorted(package.glob("*.py"))}


def resolve(node: ast.ImportFrom | ast.Import, names: set[str], package: str) -> list[tuple[str, str | None]]:
    """``(module, imported name or None)`` for each package module an import statement reads from."""
    out: list[tuple[str, str | None]] = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            parts = alias.name.split(".")
            if parts[0] == package:
                out.append((parts[1] if len(parts) > 1 else "__init__", None))
        return out
    parts = (node.module or "").split(".") if node.module else []
    if node.level == 0:
        if not parts or parts[0] != package:
            return out
        parts = parts[1:]
    source = parts[0] if parts else "__init__"
    for alias in node.names:
        if source == "__init__" and alias.name in names:
            out.append((alias.name, None))  # from . import backend: the module itself
        else:
            out.append((source, alias.name))
    return out


def defined_private(tree: ast.Module) -> set[str]:
    """Private names a module defines: functions, classes, methods, class attributes, ``self._y =``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
    return {n for n in names if is_private(n)}


def private_accesses(mods: dict[str, ast.Module], package: str) -> dict[str, list[str]]:
    """Listed accesses by kind: ``import``, ``module``, ``object`` (counted), ``private module import``,
    ``same module``, ``not in package`` (not counted)."""
    names = set(mods)
    defs = {m: defined_private(t) for m, t in mods.items()}
    found: dict[str, list[str]] = defaultdict(list)
    for mod, tree in mods.items():
        bound: dict[str, str] = {}  # local name -> package module
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias, (source, name) in zip(node.names, resolve(node, names, package)):
                    if name is None:
                        bound[alias.asname or alias.name.split(".")[-1]] = source
                        if is_private(source) and isinstance(node, ast.ImportFrom):
                            found["private module import"].append(f"{mod}:{node.lineno} {source}")
                    elif is_private(name) and source != mod:
                        found["import"].append(f"{mod}:{node.lineno} from {source} import {name}")
        for node in ast.walk(tree):
            target, attr = None, None
            if isinstance(node, ast.Attribute) and is_private(node.attr):
                target, attr = node.value, node.attr
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ACCESSORS
                  and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                  and isinstance(node.args[1].value, str) and is_private(node.args[1].value)):
                target, attr = node.args[0], node.args[1].value
            if target is None or attr is None:
                continue
            where = f"{mod}:{node.lineno} {ast.unparse(target)}.{attr}"
            if isinstance(target, ast.Name) and target.id in ("self", "cls"):
                continue
            if isinstance(target, ast.Name) and target.id in bound:
                found["module"].append(where)
            elif owners := sorted(m for m in names - {mod} if attr in defs[m]):
                found["object"].append(f"{where}  (defined in {', '.join(owners)})")
            elif attr in defs[mod]:
                found["same module"].append(where)
            else:
                found["not in package"].append(where)
    for lines in found.values():
        lines.sort(key=lambda line: (line.split(":")[0], int(line.split(":")[1].split()[0])))
    return found


def import_graph(mods: dict[str, ast.Module], package: str) -> dict[str, dict[str, bool]]:
    """module -> {imported module: whether some import of it is at module level}."""
    names = set(mods)
    graph: dict[str, dict[str, bool]] = {m: {} for m in mods}
    for mod, tree in mods.items():
        top = {id(n) for n in tree.body}
        top |= {id(n) for stmt in tree.body if isinstance(stmt, (ast.Try, ast.If)) for n in ast.walk(stmt)}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for source, _ in resolve(node, names, package):
                    if source != mod and source in names:
                        graph[mod][source] = graph[mod].get(source, False) or id(node) in top
    return graph


def cycles(graph: dict[str, dict[str, bool]], module_level_only: bool = False) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    edges = {m: [t for t, top in ts.items() if top or not module_level_only] for m, ts in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return out


def longest(package: Path, n: int) -> list[tuple[int, str]]:
    """The ``n`` longest functions and methods: ``(lines, "file:line Class.name")``."""
    found: list[tuple[int, str]] = []
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text())
        for parent in ast.walk(tree):
            for node in ast.iter_child_nodes(parent):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    prefix = f"{parent.name}." if isinstance(parent, ast.ClassDef) else ""
                    lines = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                    found.append((lines, f"{path.name}:{node.lineno} {prefix}{node.name}"))
    return sorted(found, reverse=True)[:n]


def main(argv: list[str] | None = None) -> None:
    """Print the private cross-module accesses (and the import graph, the longest functions)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", type=Path, default=Path(__file__).resolve().parent.parent / "xpbackprop")
    parser.add_argument("--imports", action="store_true", help="print the import graph and its cycles")
    parser.add_argument("--longest", type=int, default=0, metavar="N", help="print the N longest functions")
    args = parser.parse_args(argv)
    mods = modules(args.package)
    found = private_accesses(mods, args.package.name)
    counted = ("import", "module", "object")
    print(f"private cross-module accesses: {sum(len(found[k]) for k in counted)} "
          f"({', '.join(f'{k} {len(found[k])}' for k in counted)})")
    for kind in (*counted, "private module import", "same module", "not in package"):
        print(f"\n{kind}: {len(found[kind])}" + ("" if kind in counted else " (not counted)"))
        for line in found[kind]:
            print(f"    {line}")
    by_module = Counter(line.split(":")[0] for k in counted for line in found[k])
    print("\ncounted, by module: " + ", ".join(f"{m} {n}" for m, n in by_module.most_common()))
    if args.imports:
        graph = import_graph(mods, args.package.name)
        print("\nimport graph (* only inside functions):")
        for mod, targets in graph.items():
            listed = [t + ("" if top else "*") for t, top in sorted(targets.items())]
            print(f"    {mod} -> " + ", ".join(listed))
        print(f"cycles, any import: {cycles(graph)}")
        print(f"cycles, module-level imports only: {cycles(graph, module_level_only=True)}")
    if args.longest:
        print(f"\n{args.longest} longest functions (lines):")
        for lines, where in longest(args.package, args.longest):
            print(f"    {lines:4d}  {where}")


if __name__ == "__main__":
    main()
