"""The allocator of a planning round: supply, demand and policy in, places out (HiGHS).

Pure and without I/O: the placements service builds an ``Instance`` from a round's stored
input and keeps the ``Allocation``; benchmarks and tests call ``allocate`` directly.
"""

from vfu_allocation.model import (
    Allocation,
    Bound,
    Demand,
    Edge,
    Instance,
    StageReport,
    Supply,
    TierOutcome,
)
from vfu_allocation.program import INF, Program
from vfu_allocation.solver import allocate

__all__ = [
    "INF",
    "Allocation",
    "Bound",
    "Demand",
    "Edge",
    "Instance",
    "Program",
    "StageReport",
    "Supply",
    "TierOutcome",
    "allocate",
]
