"""Every test module that shares a started system is in a scheduling group.

A module using ``shared_system`` (tests/e2e) or ``running_system`` (tests/api's package
fixture, tests/access's module fixture) but missing from ``SYSTEM_GROUPS`` would still
pass, only slower: its tests would be spread over the workers and each worker would start
the system again.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SYSTEM_GROUPS, SharedSystemScheduling

ROOT = Path(__file__).resolve().parents[2]


def _grouped(nodeid: str) -> bool:
    return SharedSystemScheduling._split_scope(None, nodeid) != nodeid  # type: ignore[arg-type]


def test_modules_sharing_a_system_are_grouped() -> None:
    sharing = [
        path
        for path in sorted((ROOT / "tests" / "e2e").glob("test_*.py"))
        if "shared_system" in path.read_text()
    ]
    sharing += [
        path
        for folder in ("api", "access")
        for path in sorted((ROOT / "tests" / folder).glob("test_*.py"))
        if "running_system" in path.read_text()
    ]
    assert sharing, "the shared systems are used"
    for path in sharing:
        nodeid = f"{path.relative_to(ROOT).as_posix()}::test_x"
        assert _grouped(nodeid), f"{nodeid} shares a system but is in no SYSTEM_GROUPS entry"


def test_other_tests_are_scheduled_one_by_one() -> None:
    assert not _grouped("tests/e2e/test_walkthrough.py::test_the_walkthrough_runs")
    assert not _grouped("services/placements/tests/test_units.py::test_x")
    assert set(SYSTEM_GROUPS.values()) == {
        "access-matrix-system",
        "api-system",
        "e2e-shared-system",
    }
