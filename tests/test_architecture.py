"""The package's shape: layers that point one way, and no part too big to read.

The import graph is built from the source (every ``import`` and ``from ... import``, those under
``TYPE_CHECKING`` included: a type-only import is still a dependency), so a cycle or an import
from a lower layer into a higher one fails here, before anyone trips on it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "orchestify_nb"

#: Bottom to top. A part may import its own layer's parts (no cycle) and any lower layer's.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("tokens", "errors", "redaction", "addresses"),
    ("pricing", "runtime", "token_counting"),
    ("usage",),
    ("providers",),
    ("config", "tools", "context"),
    ("registry",),
    ("render", "session"),
    ("magics", "panel", "widgets", "batch", "demo", "testing"),
)
LAYER_OF = {part: level for level, parts in enumerate(LAYERS) for part in parts}

MAX_FUNCTION_LINES = 80
MAX_BASE_LINES = 400


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _part(module: str) -> str | None:
    """The top-level part of the package a module belongs to (``None`` for the package root,
    which only maps public names to modules as strings)."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else None


def _imported(module: str, path: Path) -> Iterator[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                yield f"{base}.{node.module}" if node.module else base
            elif node.module:
                yield node.module


def part_imports() -> dict[str, set[tuple[str, str]]]:
    """For each part, the other parts it imports, with the module that does it."""
    graph: dict[str, set[tuple[str, str]]] = {}
    for module, path in _modules():
        source = _part(module)
        if source is None:
            continue
        graph.setdefault(source, set())
        for target in _imported(module, path):
            if target.startswith("orchestify_nb."):
                dependency = _part(target)
                if dependency is not None and dependency != source:
                    graph[source].add((dependency, module))
    return graph


def test_every_part_of_the_package_has_a_layer() -> None:
    unplaced = sorted(set(part_imports()) - set(LAYER_OF))
    assert unplaced == [], f"place these in LAYERS: {unplaced}"


def test_no_part_imports_a_part_of_a_higher_layer() -> None:
    upward = sorted(
        f"{module} imports orchestify_nb.{target} ({source} is below {target})"
        for source, targets in part_imports().items()
        for target, module in targets
        if LAYER_OF.get(target, -1) > LAYER_OF.get(source, -1)
    )
    assert upward == []


def test_the_parts_import_each_other_without_a_cycle() -> None:
    graph = {
        source: {target for target, _ in targets} for source, targets in part_imports().items()
    }
    visiting: list[str] = []
    done: set[str] = set()

    def visit(part: str) -> list[str] | None:
        if part in visiting:
            return [*visiting[visiting.index(part) :], part]
        if part in done:
            return None
        visiting.append(part)
        for target in sorted(graph.get(part, ())):
            cycle = visit(target)
            if cycle:
                return cycle
        visiting.pop()
        done.add(part)
        return None

    cycles = [cycle for part in sorted(graph) if (cycle := visit(part))]
    assert cycles == []


def test_the_graph_reader_sees_a_planted_upward_import(tmp_path: Path) -> None:
    # The checks above are only as good as the reader: it must see a relative import too.
    planted = tmp_path / "orchestify_nb" / "usage"
    planted.mkdir(parents=True)
    (planted / "spy.py").write_text("from ..magics import cell\nimport orchestify_nb.config\n")
    found = set(_imported("orchestify_nb.usage.spy", planted / "spy.py"))
    assert found == {"orchestify_nb.magics", "orchestify_nb.config"}


def test_the_provider_base_class_stays_small() -> None:
    lines = len((PACKAGE / "providers" / "base.py").read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_BASE_LINES


@pytest.mark.parametrize(("module", "path"), list(_modules()), ids=lambda value: str(value))
def test_no_function_is_longer_than_a_screenful(module: str, path: Path) -> None:
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == [], module
