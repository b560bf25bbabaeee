"""The package is a pipeline of layers, and no module imports upward or in a circle.

    units, errors -> model -> analytic -> results -> sim -> studies -> present -> cli -> hasim

Every ``import`` in every module counts, at module level and inside functions alike (an import
hidden in a function is still a dependency: it only moves the failure to run time).  Modules of
one layer may import each other, but never in a circle.  The numba kernel imports nothing of
hasim outside itself, and nothing but numpy and numba outside the standard library.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import hasim

ROOT = Path(hasim.__file__).parent

#: Layer of each top-level part of the package, lowest first.
LAYERS = {
    "_version": 0, "units": 0, "errors": 0, "text": 0,
    "model": 1,
    "analytic": 2,
    "results": 3,
    "sim": 4,
    "studies": 5,
    "present": 6,
    "cli": 7, "__main__": 7,
    "__init__": 8,
}
#: Kernel modules, wherever they live: they may import only these outside the kernel.
#: (llvmlite is numba's own code generator: ``_refs`` and ``_jit`` speak to it for the references and
#: the one-copy link of the event loop.)
KERNEL_ALLOWED = {"numpy", "numba", "llvmlite", "math", "typing", "decimal", "hashlib", "os", "importlib",
                  "__future__"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> list[tuple[str, int]]:
    """(imported module, line) for every import of the file, resolved to hasim modules where they
    are one (``from hasim.present import plot`` imports ``hasim.present.plot``)."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for alias in node.names:
                sub = f"{mod}.{alias.name}"
                found.append((sub if sub in known else mod, node.lineno))
    return found


def _is_kernel(name: str) -> bool:
    leaf = name.rpartition(".")[2]
    return ".kernel" in name or leaf in {"_kernel", "_jit", "_rng", "_output"} or leaf.startswith("_kern")


def _layer(name: str) -> int:
    parts = name.split(".")
    if _is_kernel(name):
        return LAYERS["sim"]
    return LAYERS[parts[1] if len(parts) > 1 else "__init__"]


def _graph() -> dict[str, list[tuple[str, int]]]:
    mods = _modules()
    known = set(mods)
    return {name: [(m, line) for m, line in _imports(name, path, known) if m in known and m != name]
            for name, path in mods.items()}


def test_every_part_of_the_package_has_a_layer():
    for name in _modules():
        _layer(name)  # KeyError names a module outside the pipeline


def test_no_module_imports_a_higher_layer():
    upward = [f"{name}:{line} imports {m} (layer {_layer(m)} > {_layer(name)})"
              for name, edges in _graph().items() for m, line in edges if _layer(m) > _layer(name)]
    assert not upward, "\n".join(upward)


def test_there_is_no_import_circle():
    graph = {name: sorted({m for m, _ in edges}) for name, edges in _graph().items()}
    # Parent packages are imported on the way to their modules: an edge to a package's
    # __init__ counts, the implicit parent import does not (the __init__s here import nothing).
    state: dict[str, int] = {}
    circles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                circles.append(" -> ".join(stack[stack.index(nxt):] + [node, nxt]) if nxt in stack
                               else f"{node} -> {nxt}")
            elif nxt not in state:
                visit(nxt, stack + [node])
        state[node] = 2

    sys.setrecursionlimit(10_000)
    for name in graph:
        if name not in state:
            visit(name, [])
    assert not circles, "\n".join(circles)


def test_subpackage_inits_import_nothing_of_hasim():
    # So that importing one module of a layer never drags in its siblings (or their circles).
    for name, edges in _graph().items():
        # The kernel's __init__ is its public face (the output layout, and lazy names that load numba).
        if name not in ("hasim", "hasim.sim.kernel") and _modules()[name].name == "__init__.py":
            assert not edges, f"{name} imports {edges}"


def test_the_kernel_imports_only_numpy_numba_and_itself():
    mods = _modules()
    known = set(mods)
    for name, path in mods.items():
        if not _is_kernel(name):
            continue
        for mod, line in _imports(name, path, known):
            top = mod.split(".")[0]
            if mod in known:
                assert _is_kernel(mod), f"{name}:{line} imports {mod}, which is not part of the kernel"
            else:
                assert top in KERNEL_ALLOWED, f"{name}:{line} imports {mod}"
