"""Secondary disclosure audit by linear programming (METHOD.md §6).

Exports `AuditModel`, `Target`, `protect`, `unsafe_targets`, `DisclosureAuditError`.

Each distinct published set (of persons, or of convictions) is a non-negative variable; a
cell is its set's variable. The relations between sets (`published_cells.py` derives them
from the member sets: equal sets share a variable, a parent split into disjoint parts is an
equality, parts that do not cover their parent an inequality) and the cells shown are what an
attacker knows. For a suppressed cell the smallest and largest values consistent with them
are two linear programmes (HiGHS through `scipy.optimize.linprog`), as statistical offices'
audit tools (τ-ARGUS) bound cells.

A *target* is protected when its feasible range is at least the threshold wide (integer
bounds: ⌊max⌋ − ⌈min⌉ ≥ threshold). Targets are every suppressed cell and every *implicit*
cell, a remainder the relations define without publishing it (under-18 starters = starters −
adult starters), which is disclosed when it holds 1 to threshold − 1 persons and its range
is narrower than the threshold (where its true size is unknown, as for the funnel's persons
outside the cohort once published: when the range is narrow and reaches below the
threshold). The LP is the continuous relaxation: an attacker
solving the integer programme could sometimes do a little better.

`protect` hides further cells until no target is disclosed: for a disclosed target it tries
the shown cells whose equalities bind its bounds (non-zero dual values), smallest first, and
hides the first that protects it (cells of one set go together: hiding one of two equal
cells hides nothing).
"""

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

_TOLERANCE = 1e-6
_TRIES = 8  # candidate cells tried per disclosed target before taking the widest


class DisclosureAuditError(RuntimeError):
    """No shown cell that may still be hidden protects a disclosed cell."""


Terms = tuple[tuple[int, float], ...]  # a linear form: (variable, coefficient) pairs


@dataclass(frozen=True)
class AuditModel:
    """Published cells over set variables. `cell_variable[i]` is the variable of cell `i`,
    `values[i]` its value in the table (NaN when not shown), `truth` the variables' true
    values (NaN where unknown: used only to skip needless LPs). `equalities` and
    `inequalities` are linear forms = 0 and ≤ 0; `implicit` the remainders to audit."""

    cells: list[Hashable]
    cell_variable: np.ndarray
    values: np.ndarray
    truth: np.ndarray
    equalities: list[Terms]
    inequalities: list[Terms]
    implicit: list[Terms]

    @property
    def variables(self) -> int:
        return len(self.truth)


@dataclass(frozen=True)
class Target:
    """A suppressed cell or an implicit cell: the linear form bounded, and why."""

    terms: Terms
    kind: str  # "suppressed" | "implicit"
    cells: tuple[Hashable, ...]  # the published cells of this set (empty: implicit)


def _matrix(forms: list[Terms], variables: int):
    rows = np.repeat(np.arange(len(forms)), [len(f) for f in forms])
    columns = np.array([v for f in forms for v, _ in f], dtype=np.int64)
    data = np.array([c for f in forms for _, c in f], dtype=np.float64)
    return sp.csr_array((data, (rows, columns)), shape=(len(forms), variables))


class _System:
    """What is known: the shown cells (one row per variable shown) and the relations."""

    def __init__(self, model: AuditModel, hidden: set[int]):
        groups: dict[int, list[int]] = {}
        for i, variable in enumerate(model.cell_variable):
            if not np.isnan(model.values[i]):
                groups.setdefault(int(variable), []).append(i)
        # a variable is known while any of its cells is shown
        groups = {v: cells for v, cells in groups.items() if any(i not in hidden for i in cells)}
        self.variables = list(groups)
        self.members = list(groups.values())
        forms = [((v, 1.0),) for v in self.variables] + model.equalities
        self.matrix = _matrix(forms, model.variables) if forms else None
        self.values = np.r_[[model.values[m[0]] for m in self.members],
                            np.zeros(len(model.equalities))]
        self.links = (_matrix(model.inequalities, model.variables)
                      if model.inequalities else None)


def _optimum(model: AuditModel, system: _System, terms: Terms, sense: int):
    """Min (sense 1) or max (sense −1) of the form: (value, binding shown-cell rows)."""
    cost = np.zeros(model.variables)
    for variable, coefficient in terms:
        cost[variable] += sense * coefficient
    result = linprog(
        cost, A_ub=system.links,
        b_ub=None if system.links is None else np.zeros(system.links.shape[0]),
        A_eq=system.matrix, b_eq=system.values if system.matrix is not None else None,
        bounds=(0, None), method="highs")
    if result.status == 3:  # unbounded: nothing published limits it
        return sense * -math.inf, []
    if result.status != 0:
        raise DisclosureAuditError(f"audit LP failed: {result.message}")
    shown = len(system.variables)
    marginals = result.eqlin.marginals[:shown] if system.matrix is not None else np.zeros(0)
    return sense * result.fun, list(np.flatnonzero(np.abs(marginals) > _TOLERANCE))


def _truth(model: AuditModel, terms: Terms) -> float:
    return float(sum(model.truth[v] * c for v, c in terms))


def _disclosed(model: AuditModel, system: _System, target: Target, threshold: int):
    """(disclosed?, binding rows of the bounds that decided it)."""
    truth = _truth(model, target.terms)
    if target.kind == "implicit" and not np.isnan(truth) and not 1 <= truth < threshold:
        return False, []  # nobody there, or as many as a cell may show: nothing to hide
    high, binding = _optimum(model, system, target.terms, -1)
    if math.isinf(high):
        return False, []
    top = math.floor(high + _TOLERANCE)
    if target.kind == "implicit" and top < 1:
        return False, []  # nobody can be there
    if not np.isnan(truth) and top - truth >= threshold:
        return False, []  # the minimum is at most the truth: the range is wide enough
    low, more = _optimum(model, system, target.terms, 1)
    bottom = math.ceil(low - _TOLERANCE)
    narrow = top - bottom < threshold
    if target.kind == "implicit":
        narrow = narrow and bottom <= threshold - 1
    return narrow, sorted(set(binding) | set(more))


def _targets(model: AuditModel, hidden: set[int]) -> list[Target]:
    known = {int(model.cell_variable[i]) for i in range(len(model.cells))
             if i not in hidden and not np.isnan(model.values[i])}
    by_variable: dict[int, list[int]] = {}
    for i in sorted(hidden):
        if int(model.cell_variable[i]) not in known:
            by_variable.setdefault(int(model.cell_variable[i]), []).append(i)
    targets = [Target(((v, 1.0),), "suppressed", tuple(model.cells[i] for i in cells))
               for v, cells in by_variable.items()]
    # a suppressed cell whose set is also shown elsewhere is recovered outright
    exposed = [Target(((int(model.cell_variable[i]), 1.0),), "suppressed", (model.cells[i],))
               for i in sorted(hidden) if int(model.cell_variable[i]) in known]
    return exposed + targets + [Target(t, "implicit", ()) for t in model.implicit]


def _victims(model, system: _System, rows, target: Target, frozen) -> list[list[int]]:
    """Candidate groups of shown cells to hide (cells of one set together), smallest first:
    those whose equalities bind the target's bounds, else those related to it."""
    if not rows:
        rows = _related(model, system, target)
    groups = [system.members[r] for r in rows
              if not any(i in frozen for i in system.members[r])]
    return sorted(groups, key=lambda g: (model.values[g[0]], len(g)))


def _related(model, system: _System, target: Target, hops: int = 3) -> list[int]:
    """Shown rows whose variables share a relation with the target's, within a few hops
    (for degenerate LPs whose duals land on the relations only)."""
    reached = {v for v, _ in target.terms}
    for _ in range(hops):
        reached |= {v for form in model.equalities + model.inequalities
                    if any(v in reached for v, _ in form) for v, _ in form}
        shown = [r for r, v in enumerate(system.variables) if v in reached]
        if shown:
            return shown
    return []


def _protect_one(model, system, target, rows, hidden, frozen, threshold, expand) -> set[int]:
    candidates = _victims(model, system, rows, target, frozen)
    if not candidates:
        raise DisclosureAuditError(
            f"a {target.kind} cell {target.cells or target.terms[:4]} is disclosed and no "
            "cell that may still be hidden protects it")
    for group in candidates[:_TRIES]:
        trial = hidden | {j for i in group for j in expand(i)}
        disclosed, _ = _disclosed(model, _System(model, trial), target, threshold)
        if not disclosed:
            return trial
    # none protects it alone: hide the smallest and look again (the target stays pending)
    return hidden | {j for i in candidates[0] for j in expand(i)}


def unsafe_targets(model: AuditModel, hidden: set[int], threshold: int) -> list[Target]:
    """Every target (suppressed or implicit cell) recoverable to within the threshold."""
    system = _System(model, hidden)
    return [t for t in _targets(model, hidden)
            if _disclosed(model, system, t, threshold)[0]]


def protect(model: AuditModel, hidden: set[int], threshold: int, *,
            frozen: set[int] = frozenset(),
            expand: Callable[[int], set[int]] = lambda i: {i}) -> set[int]:
    """`hidden` grown until no target is disclosed. `frozen` cells are already published
    (they may bind, never be hidden); `expand(i)` is what hiding cell `i` hides with it."""
    hidden = {j for i in hidden for j in expand(i)}
    protected: set[tuple[str, Terms]] = set()  # hiding more only widens ranges
    while True:
        pending = [t for t in _targets(model, hidden) if (t.kind, t.terms) not in protected]
        if not pending:
            return hidden
        system = _System(model, hidden)
        for target in pending:
            disclosed, rows = _disclosed(model, system, target, threshold)
            if not disclosed:
                protected.add((target.kind, target.terms))
                continue
            hidden = _protect_one(model, system, target, rows, hidden, frozen, threshold,
                                  expand)
            system = _System(model, hidden)
