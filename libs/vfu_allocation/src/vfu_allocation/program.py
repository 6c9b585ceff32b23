"""A small builder of mixed-integer programs, solved by HiGHS.

The allocator solves a sequence of programs over the same variables, each stage adding
the rows that fix what the stages before it achieved. Building rows in Python lists and
handing HiGHS the whole model at once (``passModel``) keeps each stage one call, and a
model built in the same order is the same model, so HiGHS gives the same answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import highspy
import numpy as np

INF = highspy.kHighsInf
# How far from a whole number a relaxed value may be and still count as one.
_INTEGRAL = 1e-6


@dataclass
class Solved:
    """The values of a solved stage and how the solver ended."""

    values: list[float]
    objective: float
    status: str
    mip_gap: float
    seconds: float


@dataclass
class Program:
    """Columns (bounds, integrality) and rows (sparse, with bounds) of a program."""

    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    # Integer columns tried as continuous first (see ``solve``).
    relaxable: list[bool] = field(default_factory=list)
    rows: list[tuple[float, float, list[int], list[float]]] = field(default_factory=list)

    def column(self, lower: float, upper: float, *, integer: bool, relaxable: bool = False) -> int:
        """Add a variable; its index. A ``relaxable`` integer column is solved as
        continuous first and its integrality checked afterwards."""
        self.lower.append(lower)
        self.upper.append(upper)
        self.integer.append(integer)
        self.relaxable.append(integer and relaxable)
        return len(self.lower) - 1

    def row(self, lower: float, upper: float, terms: dict[int, float]) -> None:
        """Add ``lower <= sum(coefficient * column) <= upper``."""
        items = sorted((c, v) for c, v in terms.items() if v != 0)
        self.rows.append((lower, upper, [c for c, _ in items], [v for _, v in items]))

    def solve(self, objective: dict[int, float], *, maximise: bool, mip_rel_gap: float) -> Solved:
        """Optimise ``objective`` subject to every row so far.

        Relaxable columns are first solved as continuous: the allocation's rows (offer
        capacity, and line, quota, university and tier sums, nested as they are) make a
        network-like matrix whose vertices are integral, so the relaxation usually
        answers with whole places, and then it is the integer optimum too (the
        relaxation's optimum bounds the integer one, and it is itself integral). Only
        when a value comes out fractional is the full mixed-integer program solved.
        """
        started = time.perf_counter()
        if any(self.relaxable):
            relaxed = self._run(objective, maximise, mip_rel_gap, relax=True)
            if relaxed.status == "Optimal" and all(
                abs(value - round(value)) <= _INTEGRAL
                for value, relax in zip(relaxed.values, self.relaxable, strict=True)
                if relax
            ):
                relaxed.values = [
                    float(round(v)) if relax else v
                    for v, relax in zip(relaxed.values, self.relaxable, strict=True)
                ]
                relaxed.seconds = time.perf_counter() - started
                return relaxed
        solved = self._run(objective, maximise, mip_rel_gap, relax=False)
        solved.seconds = time.perf_counter() - started
        return solved

    def _run(
        self, objective: dict[int, float], maximise: bool, mip_rel_gap: float, *, relax: bool
    ) -> Solved:
        started = time.perf_counter()
        integer = [
            i and not (relax and r) for i, r in zip(self.integer, self.relaxable, strict=True)
        ]
        lp = highspy.HighsLp()
        n = len(self.lower)
        lp.num_col_ = n
        lp.num_row_ = len(self.rows)
        cost = np.zeros(n)
        for column, coefficient in objective.items():
            cost[column] = coefficient
        lp.col_cost_ = cost
        lp.col_lower_ = np.array(self.lower, dtype=np.double)
        lp.col_upper_ = np.array(self.upper, dtype=np.double)
        lp.row_lower_ = np.array([r[0] for r in self.rows], dtype=np.double)
        lp.row_upper_ = np.array([r[1] for r in self.rows], dtype=np.double)
        starts, index, value = [0], [], []
        for _, _, columns, coefficients in self.rows:
            index.extend(columns)
            value.extend(coefficients)
            starts.append(len(index))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(value, dtype=np.double)
        lp.sense_ = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
        if any(integer):
            lp.integrality_ = [
                highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                for i in integer
            ]
        solver = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy ships no stubs for it
        solver.setOptionValue("output_flag", False)
        solver.setOptionValue("threads", 1)  # one thread: the same model, the same path
        solver.setOptionValue("random_seed", 0)
        solver.setOptionValue("mip_rel_gap", mip_rel_gap)
        solver.passModel(lp)
        solver.run()
        status = solver.modelStatusToString(solver.getModelStatus())
        info = solver.getInfo()
        values = list(solver.getSolution().col_value)
        return Solved(
            values=values,
            objective=float(info.objective_function_value),
            status=status,
            mip_gap=float(info.mip_gap) if any(integer) else 0.0,
            seconds=time.perf_counter() - started,
        )
