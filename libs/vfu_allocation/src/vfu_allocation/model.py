"""The allocation problem as the solver sees it: places to give, demand to serve, which
demand may take which places, and the policy's tiers, floors, ceilings and weights.

Pure data, no database: the round's service builds an ``Instance`` from its tables (and
stores it as the run's input snapshot), the solver turns it into an ``Allocation``. Ids
are strings so a snapshot is plain JSON, and every collection is sorted by id before
the model is built, so the input order never changes the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Supply:
    """Places of one offer."""

    id: str
    places: int


@dataclass(frozen=True, order=True)
class Demand:
    """One demand line: ``students`` of ``university``, served in ``tier`` (0 first)."""

    id: str
    university: str
    students: int
    tier: int


@dataclass(frozen=True, order=True)
class Edge:
    """The line ``demand`` may take places of ``supply``, at ``cost`` per place (distance
    in km, or a penalty for an accepted alternative; lower is better)."""

    demand: str
    supply: str
    cost: int = 0


@dataclass(frozen=True, order=True)
class Bound:
    """A quota: at least (floor) or at most (ceiling) ``amount`` places over ``demands``,
    the lines of one university that the quota's programme and term cover, at
    ``supplies``: the offers its agreement covers (empty: at every offer)."""

    name: str
    university: str
    amount: int
    demands: tuple[str, ...]
    supplies: tuple[str, ...] = ()

    def covers(self, demand: str, supply: str) -> bool:
        """Whether places of ``demand`` at ``supply`` count towards the quota."""
        return demand in self.demands and (not self.supplies or supply in self.supplies)


@dataclass(frozen=True)
class Instance:
    """Everything one allocation run decides from.

    ``weights`` is the fairness basis per university: its demand (fill ratio =
    allocated / demand) or its admitted students (a university is served in proportion
    to them, up to its demand). Universities without a weight weigh their demand.
    """

    supplies: tuple[Supply, ...]
    demands: tuple[Demand, ...]
    edges: tuple[Edge, ...]
    floors: tuple[Bound, ...] = ()
    ceilings: tuple[Bound, ...] = ()
    weights: dict[str, float] = field(default_factory=dict)
    seed: int = 0

    def canonical(self) -> Instance:
        """The same instance with every collection in id order."""
        return Instance(
            supplies=tuple(sorted(self.supplies)),
            demands=tuple(sorted(self.demands)),
            edges=tuple(sorted(self.edges)),
            floors=tuple(sorted(self.floors)),
            ceilings=tuple(sorted(self.ceilings)),
            weights=dict(sorted(self.weights.items())),
            seed=self.seed,
        )

    def demand_of(self, university: str) -> int:
        """Students the university asks for in all its lines."""
        return sum(d.students for d in self.demands if d.university == university)

    def weight_of(self, university: str) -> float:
        """The university's fairness weight (its demand when the policy gives none)."""
        return float(self.weights.get(university, self.demand_of(university)))

    def tiers(self) -> list[int]:
        """The tiers that have demand, first first."""
        return sorted({d.tier for d in self.demands})

    def universities_in(self, tier: int) -> list[str]:
        """The universities with demand in ``tier``, in id order."""
        return sorted({d.university for d in self.demands if d.tier == tier})


@dataclass(frozen=True)
class TierOutcome:
    """What one tier's stages achieved."""

    tier: int
    floor_places: int
    min_fill: float
    places: int


@dataclass(frozen=True)
class StageReport:
    """How one stage's program was solved (for the run's report)."""

    name: str
    status: str
    objective: float
    mip_gap: float
    seconds: float


@dataclass(frozen=True)
class Allocation:
    """The result: places per (demand, supply), and what each stage achieved."""

    places: dict[tuple[str, str], int]
    tiers: tuple[TierOutcome, ...]
    cost: int
    status: str
    mip_gap: float
    runtime_seconds: float
    stages: tuple[StageReport, ...] = ()

    def allocated_to(self, demand: str) -> int:
        """Places the line got in all."""
        return sum(n for (d, _), n in self.places.items() if d == demand)
