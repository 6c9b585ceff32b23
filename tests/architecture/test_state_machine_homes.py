"""Each aggregate's status is changed in one place: its feature's ``transitions.py``.

A static check over every service's source (no database): outside a ``transitions.py``
no code writes a status (a ``"status"`` key with a status spelled out in a dict literal,
``status=`` in a statement's ``.values(...)``, an assignment to ``<row>.status``), and
no code spells out
a set of an aggregate's statuses (a tuple, list or set literal made only of them): those
sets are declared once, beside the moves, and imported. Read models (``projections/``)
copy the status another service announced and are not an aggregate's writer.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest
from placements.vocabularies import RunStatus
from vfu_common.events.contracts import (
    AgreementStatus,
    BookingStatus,
    DemandLineStatus,
    OfferStatus,
    TrainingRecordStatus,
)

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"
# The statuses of each service's own aggregates.
STATUSES = {
    "agreements": set(get_args(AgreementStatus)),
    "placements": set(get_args(BookingStatus))
    | set(get_args(OfferStatus))
    | set(get_args(DemandLineStatus))
    | set(get_args(RunStatus))
    | {"released"},
    "supervisors": set(get_args(TrainingRecordStatus)),
}
# Modules that hold a whole vocabulary (for CHECK constraints), not a subset of it.
VOCABULARY_MODULES = {"vocabularies.py"}


def _source_files(service: str) -> list[Path]:
    src = SERVICES / service / "src" / service
    return [
        path
        for path in sorted(src.rglob("*.py"))
        if path.name != "transitions.py" and "projections" not in path.relative_to(src).parts
    ]


def status_writes(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Where ``tree`` writes a status: (line, what)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "status"
                    and isinstance(value, ast.Constant)
                ):
                    yield node.lineno, '"status" key in a dict'
        elif isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "values"
                and any(keyword.arg == "status" for keyword in node.keywords)
            ):
                yield node.lineno, ".values(status=...)"
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                # An object's own status field (``self.status``) is no aggregate's.
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == "status"
                    and not (isinstance(target.value, ast.Name) and target.value.id == "self")
                ):
                    yield node.lineno, "assignment to .status"


def status_sets(tree: ast.AST, statuses: set[str]) -> Iterator[tuple[int, str]]:
    """Where ``tree`` spells out a collection (or a Literal) made only of ``statuses``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            node = ast.Tuple(elts=[node.slice], lineno=node.lineno)
        if isinstance(node, ast.Tuple | ast.List | ast.Set) and node.elts:
            values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            if len(values) == len(node.elts) and all(
                isinstance(v, str) and v in statuses for v in values
            ):
                yield node.lineno, f"status set {tuple(values)}"


def violations(service: str) -> list[str]:
    found = []
    for path in _source_files(service):
        tree = ast.parse(path.read_text(), filename=str(path))
        checks = list(status_writes(tree))
        if path.name not in VOCABULARY_MODULES:
            checks += status_sets(tree, STATUSES[service])
        found += [f"{path.relative_to(ROOT)}:{line}: {what}" for line, what in checks]
    return found


@pytest.mark.parametrize("service", sorted(STATUSES))
def test_only_transitions_modules_write_or_list_statuses(service: str) -> None:
    assert violations(service) == []


def test_every_aggregate_with_statuses_has_a_transitions_module() -> None:
    homes = {
        "agreements/src/agreements/contracting/transitions.py",
        "placements/src/placements/allocation/transitions.py",
        "placements/src/placements/bookings/transitions.py",
        "placements/src/placements/demand/transitions.py",
        "placements/src/placements/offers/transitions.py",
        "placements/src/placements/supervision/transitions.py",
        "supervisors/src/supervisors/training/transitions.py",
    }
    found = {str(p.relative_to(SERVICES)) for p in SERVICES.glob("*/src/*/*/transitions.py")}
    assert found == homes


def test_the_check_sees_each_kind_of_write() -> None:
    # The check itself can fail: each form of writing a status is found.
    source = """
values = {"status": "confirmed"}
stmt = update(table).values(status="cancelled")
row.status = "closed"
WATCHED = ("requested", "confirmed")
"""
    tree = ast.parse(source)
    assert sorted(what for _, what in status_writes(tree)) == [
        '"status" key in a dict',
        ".values(status=...)",
        "assignment to .status",
    ]
    assert [line for line, _ in status_sets(tree, STATUSES["placements"])] == [5]
