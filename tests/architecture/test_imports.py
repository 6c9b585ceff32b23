"""The import graph of the whole project: no circles, floors kept, migrations frozen.

A static walk (``ast``, nothing imported) over every package's source: the four
libraries, the gateway and the services. Three rules:

- No module takes part in an import circle. A circle means two modules can only be
  understood together (and import order decides whether the program starts); the usual
  fix is that a reaction moves to the feature it acts on.
- Each package imports only from the floors below it: mechanics (``vfu_common``) under
  domain code shared by services (``vfu_domain``), under the services and the gateway,
  which never import each other; the development launcher and the test-support package
  are never imported by what runs in production.
- A migration imports nothing from its service's source nor from the domain package: it
  is frozen, holding the DDL it ran with, so a later change of a table's declaration
  cannot change what an old migration does.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE_ROOTS = {
    "vfu_common": ROOT / "libs" / "vfu_common" / "src",
    "vfu_domain": ROOT / "libs" / "vfu_domain" / "src",
    "vfu_allocation": ROOT / "libs" / "vfu_allocation" / "src",
    "vfu_devrun": ROOT / "libs" / "vfu_devrun" / "src",
    "vfu_testing": ROOT / "libs" / "vfu_testing" / "src",
    "gateway": ROOT / "gateway" / "src",
    "agreements": ROOT / "services" / "agreements" / "src",
    "placements": ROOT / "services" / "placements" / "src",
    "supervisors": ROOT / "services" / "supervisors" / "src",
}
SERVICES = {"agreements", "placements", "supervisors"}
# What each package may import from the project (besides itself).
ALLOWED = {
    "vfu_common": set(),
    "vfu_domain": {"vfu_common"},
    # The allocator is pure: numbers in, numbers out; the placements service feeds it.
    "vfu_allocation": set(),
    "gateway": {"vfu_common"},
    **{service: {"vfu_common", "vfu_domain"} for service in SERVICES},
    "placements": {"vfu_common", "vfu_domain", "vfu_allocation"},
    # The launcher starts every component; the test kit drives them from outside.
    "vfu_devrun": {"vfu_common", "vfu_domain", "gateway", *SERVICES},
    "vfu_testing": {"vfu_common", "vfu_domain", "vfu_devrun", "gateway", *SERVICES},
}
# What a migration may import: the migration tools and the column types of the database
# layer (a type's storage is part of the DDL; its Python side is not run by DDL).
MIGRATION_ALLOWED = {"alembic", "sqlalchemy", "__future__", "typing", "collections", "datetime"}
MIGRATION_ALLOWED_NAMES = {("vfu_common.db", "UtcDateTime")}


def module_name(package: str, path: Path) -> str:
    parts = path.relative_to(SOURCE_ROOTS[package]).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every project module by its dotted name."""
    return {
        module_name(package, path): path
        for package, root in SOURCE_ROOTS.items()
        for path in sorted((root / package).rglob("*.py"))
    }


def imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of each import in ``tree``, relative imports resolved.

    ``from a.b import c`` yields ``a.b.c`` (which may be a module or a name in ``a.b``;
    the caller keeps the longest known module). Imports under ``if TYPE_CHECKING:`` count
    too: a circle of annotations is still a circle a reader has to untangle.
    """
    base = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - (node.level - 1)]
                prefix = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                prefix = node.module or ""
            for alias in node.names:
                yield node.lineno, f"{prefix}.{alias.name}"


def resolve(name: str, known: Iterable[str]) -> str | None:
    """The longest project module that ``name`` is or lies in, if any."""
    known = set(known)
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def import_graph() -> dict[str, dict[str, int]]:
    """module → {imported project module: line of the first such import}."""
    found = modules()
    graph: dict[str, dict[str, int]] = {}
    for module, path in found.items():
        edges: dict[str, int] = {}
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, name in imported_names(tree, module, path.name == "__init__.py"):
            target = resolve(name, found)
            # A package's own __init__ is reached by importing anything in it: not an edge.
            if target is not None and target != module and not module.startswith(f"{target}."):
                edges.setdefault(target, line)
        graph[module] = edges
    return graph


def circles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        # Iterative, so a deep import chain cannot hit the recursion limit.
        work = [(node, iter(graph.get(node, {})))]
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        while work:
            current, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(graph.get(successor, {}))))
                    break
                if successor in on_stack:
                    low[current] = min(low[current], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[current])
                if low[current] == index[current]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == current:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_circle_finder_finds_a_circle_and_only_circles() -> None:
    graph = {
        "a": {"b": 1},
        "b": {"c": 1},
        "c": {"a": 1, "d": 1},
        "d": {"e": 1},
        "e": {},
        "f": {"f": 1},
    }
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b": 1}, "b": {}}) == []


def test_relative_imports_resolve_against_the_importing_module() -> None:
    tree = ast.parse("from . import x\nfrom ..c import d\nimport e.f\n")
    assert list(imported_names(tree, "p.q.r", is_package=False)) == [
        (1, "p.q.x"),
        (2, "p.c.d"),
        (3, "e.f"),
    ]
    assert list(imported_names(ast.parse("from . import x"), "p.q", is_package=True)) == [
        (1, "p.q.x")
    ]


def test_no_module_takes_part_in_an_import_circle() -> None:
    graph = import_graph()
    assert len(graph) > 200  # every package was walked
    found = circles(graph)
    described = [
        " → ".join(f"{m} (line {graph[m][n]})" for m, n in zip(c, [*c[1:], c[0]], strict=True))
        if all(n in graph[m] for m, n in zip(c, [*c[1:], c[0]], strict=True))
        else ", ".join(c)
        for c in found
    ]
    assert not found, "import circles:\n" + "\n".join(described)


def test_each_package_imports_only_the_floors_below_it() -> None:
    wrong = []
    for module, edges in import_graph().items():
        package = module.split(".")[0]
        for target, line in edges.items():
            imported = target.split(".")[0]
            if imported != package and imported not in ALLOWED[package]:
                wrong.append(f"{module} line {line} imports {target}")
    assert not wrong, "\n".join(wrong)


def migration_files() -> list[Path]:
    return sorted((ROOT / "services").glob("*/migrations/versions/*.py"))


def migration_imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, what) of each import in a migration that is not allowed."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [(node.module or "", alias.name) for alias in node.names]
        else:
            continue
        for module, name in names:
            if module.split(".")[0] in MIGRATION_ALLOWED or (module, name) in (
                MIGRATION_ALLOWED_NAMES
            ):
                continue
            yield node.lineno, f"{module}.{name}" if name else module


def test_migrations_are_frozen() -> None:
    files = migration_files()
    assert len(files) >= 10
    wrong = [
        f"{path.relative_to(ROOT)} line {line} imports {what}"
        for path in files
        for line, what in migration_imports(path)
    ]
    assert not wrong, "migrations import live code:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    ("source", "allowed"),
    [
        ("from placements.bookings.models import create_bookings_tables", False),
        ("import vfu_domain.reference", False),
        ("from vfu_common.messaging.tables import create_messaging_tables", False),
        ("from vfu_common.db import UtcDateTime", True),
        ("import sqlalchemy as sa\nfrom alembic import op", True),
    ],
)
def test_the_migration_check_tells_frozen_from_live(
    tmp_path: Path, source: str, allowed: bool
) -> None:
    path = tmp_path / "0001_x.py"
    path.write_text(source + "\n")
    assert (not list(migration_imports(path))) is allowed


# What a benchmark may import from the project: it starts the system and talks HTTP and
# NATS, or uses the libraries and the test-support package; never a service's inside.
BENCH_ALLOWED = {"vfu_common", "vfu_domain", "vfu_allocation", "vfu_devrun", "vfu_testing"}
PROJECT_PACKAGES = set(SOURCE_ROOTS)


def bench_imports_of_internals(bench_dir: Path) -> list[str]:
    found = []
    for path in sorted(bench_dir.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, name in imported_names(tree, path.stem, False):
            top = name.split(".")[0]
            if top in PROJECT_PACKAGES and top not in BENCH_ALLOWED:
                found.append(f"{path.name}:{line} imports {name}")
    return found


def test_benchmarks_use_the_public_surface_only() -> None:
    assert bench_imports_of_internals(ROOT / "bench") == []


def test_the_bench_check_finds_an_import_of_a_service(tmp_path: Path) -> None:
    (tmp_path / "b.py").write_text("def f():\n    from placements.offers import models\n")
    assert bench_imports_of_internals(tmp_path) == ["b.py:2 imports placements.offers.models"]
