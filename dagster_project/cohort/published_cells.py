"""Every count published for a cohort year as a set, and the relations between the sets:
the input of the disclosure audit (`audit.py`).

Exports `cohort_year_model`, `PublishedCells`, `OUTCOME_COUNTS`, `FUNNEL_TABLE`,
`OUTCOME_TABLE`.

Three universes of units: persons (the cohort members, and for the funnel four units that
stand for the starters outside the cohort: under 18, ambiguous, matched and absent outside
the cohort), convictions before and convictions after (a member's convictions of one offence
group in one window, weighted by their number). A person count is the size of a set of
persons, a conviction count the weight of a set of convictions: offence groups partition a
member's convictions, so `before` of the `all` row is the sum over offence groups, while
their persons overlap.

Relations come from the sets themselves, never from a list: cells of equal sets share one
variable; for every set (a parent) and every family of disjoint published sets inside it —
a dimension's groups, or any set completed greedily with further disjoint ones — the parent
is their sum when they cover it (a partition, a complement) and at least their sum when they
do not, and then the persons left over are an *implicit* cell (starters − adult starters).
Links: persons convicted ≤ convictions, row by row.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dagster_project.cohort.audit import AuditModel
from dagster_project.cohort.outcomes import person_row_sets
from dagster_project.vocabulary.link_status import (
    ABSENT,
    ADULT_STARTERS,
    AMBIGUOUS,
    COHORT,
    MATCHED,
    STARTERS,
    STUDY_POPULATION,
)

OUTCOME_TABLE, FUNNEL_TABLE = "outcome_table", "cohort_funnel"
OUTCOME_COUNTS = ["n", "persons_before", "persons_after", "before", "after"]
_OUTSIDE = {  # unit -> funnel stages it belongs to
    "under_18": [STARTERS],
    AMBIGUOUS: [STARTERS, ADULT_STARTERS, AMBIGUOUS],
    "matched_outside_cohort": [STARTERS, ADULT_STARTERS, MATCHED, STUDY_POPULATION],
    "absent_outside_cohort": [STARTERS, ADULT_STARTERS, ABSENT, STUDY_POPULATION],
}
_MEMBER_STAGES = [STARTERS, ADULT_STARTERS, STUDY_POPULATION, COHORT]


@dataclass(frozen=True)
class PublishedCells:
    """The audit model and where each published cell sits in it."""

    model: AuditModel
    index: dict[tuple, int]  # (table, row key, column) -> cell number


def _outside_counts(funnel: pd.DataFrame, members: pd.DataFrame) -> list[float]:
    """Persons of each outside unit, NaN where the funnel does not show what it needs."""
    p = funnel.set_index("stage")["persons"].astype("Float64").astype(float)
    status = members["link_status"].value_counts()
    return [p[STARTERS] - p[ADULT_STARTERS], p[AMBIGUOUS],
            p[MATCHED] - status.get(MATCHED, 0), p[ABSENT] - status.get(ABSENT, 0)]


def _offence_arrays(members: pd.DataFrame, by_group: pd.DataFrame):
    """Per member and offence group: convictions before and after (members × groups)."""
    groups = sorted(by_group["offence_group"].astype("str").unique())
    keys = members["person_key"]
    if not groups:
        return groups, np.zeros((len(keys), 0)), np.zeros((len(keys), 0))
    wide = by_group.astype({"offence_group": "str"}).pivot_table(
        index="person_key", columns="offence_group", values=["before", "after"],
        aggfunc="sum", fill_value=0)

    def of(window):
        return wide[window].reindex(index=keys, columns=groups, fill_value=0).fillna(0).to_numpy(
            dtype=np.float64)
    return groups, of("before"), of("after")


def _bits(mask: np.ndarray) -> int:
    """A boolean mask as a Python int bitset (fast exact set algebra on a few hundred units)."""
    return int.from_bytes(np.packbits(mask, bitorder="little").tobytes(), "little")


@dataclass
class _Universe:
    name: str
    weights: np.ndarray  # per unit; NaN when unknown
    sets: dict[int, int]  # bitset -> variable

    def size(self, bits: int) -> float:
        chosen = np.unpackbits(np.frombuffer(bits.to_bytes(len(self.weights) // 8 + 1,
                                                           "little"), np.uint8),
                               bitorder="little")[: len(self.weights)].astype(bool)
        return float(self.weights[chosen].sum()) if chosen.any() else 0.0


def _cell_sets(members, by_group, outcomes, funnel, outside):
    """(cell key, universe, unit mask, dimension) of every published count."""
    before = members["before"].to_numpy(dtype=np.float64)
    after = members["after"].to_numpy(dtype=np.float64)
    groups, gb, ga = _offence_arrays(members, by_group)
    b_units, a_units = np.argwhere(gb > 0), np.argwhere(ga > 0)
    extra = np.zeros(len(_OUTSIDE) if outside is not None else 0, dtype=bool)
    rows = person_row_sets(members)
    cells = []
    for record in ([] if outcomes is None else outcomes.to_dict("records")):
        key = (record["dimension"], record["group"])
        if key[0] == "offence_group":
            g = groups.index(key[1]) if key[1] in groups else -1
            n = (gb[:, g] > 0) | (ga[:, g] > 0) if g >= 0 else np.zeros(len(members), bool)
            pb, pa = (gb[:, g] > 0, ga[:, g] > 0) if g >= 0 else (n, n)
            conv_b, conv_a = b_units[:, 1] == g, a_units[:, 1] == g
        else:
            n = rows.get(key, np.zeros(len(members), dtype=bool))
            pb, pa = n & (before > 0), n & (after > 0)
            conv_b, conv_a = n[b_units[:, 0]], n[a_units[:, 0]]
        for column, universe, mask in (("n", "persons", np.r_[n, extra]),
                                       ("persons_before", "persons", np.r_[pb, extra]),
                                       ("persons_after", "persons", np.r_[pa, extra]),
                                       ("before", "before", conv_b), ("after", "after", conv_a)):
            cells.append(((OUTCOME_TABLE, key, column), universe, mask, key[0]))
    if funnel is not None:
        status = members["link_status"].to_numpy()
        for stage in funnel["stage"]:
            inside = (np.ones(len(members), dtype=bool) if stage in _MEMBER_STAGES
                      else status == stage)
            out = np.array([stage in stages for stages in _OUTSIDE.values()])
            cells.append(((FUNNEL_TABLE, stage, "persons"), "persons", np.r_[inside, out],
                          f"funnel:{stage}"))
    weights = {"persons": np.r_[np.ones(len(members)), outside if outside is not None else []],
               "before": gb[gb > 0] if len(b_units) else np.zeros(0),
               "after": ga[ga > 0] if len(a_units) else np.zeros(0)}
    return cells, weights


def _families(parent: int, inside: list[int], dimensions: dict[int, set]) -> list[list[int]]:
    """Families of disjoint sets inside `parent`: each dimension's, and every set completed
    greedily (largest first) with further disjoint ones."""
    by_dimension: dict[str, list[int]] = {}
    for bits in inside:
        for dimension in dimensions[bits]:
            by_dimension.setdefault(dimension, []).append(bits)
    seeds = [f for f in by_dimension.values()
             if sum(b.bit_count() for b in f) == _union(f).bit_count()]
    seeds += [[b] for b in inside]
    ordered = sorted(inside, key=lambda b: -b.bit_count())
    families = set()
    for seed in seeds:
        union, family = _union(seed), list(seed)
        for bits in ordered:
            if union == parent:
                break
            if not bits & union:
                family.append(bits)
                union |= bits
        families.add(frozenset(family))
    return [sorted(f) for f in families]


def _union(sets) -> int:
    union = 0
    for bits in sets:
        union |= bits
    return union


def _relations(universe: _Universe, dimensions):
    """Equalities, inequalities and implicit remainders among one universe's sets."""
    equalities, inequalities, implicit = [], [], []
    sets = [b for b in universe.sets if b]
    for parent in sets:
        inside = [b for b in sets if b != parent and b & parent == b]
        for family in _families(parent, inside, dimensions) if inside else []:
            form = ((universe.sets[parent], -1.0),
                    *((universe.sets[b], 1.0) for b in family))
            if _union(family) == parent:
                equalities.append(form)
            else:
                inequalities.append(form)
                if universe.name == "persons":
                    implicit.append(tuple((v, -c) for v, c in form))
    return equalities, inequalities, implicit


def cohort_year_model(
    members: pd.DataFrame, by_group: pd.DataFrame, *,
    outcomes: pd.DataFrame | None = None, funnel: pd.DataFrame | None = None,
) -> PublishedCells:
    """The audit model of a cohort year's published `outcomes` and/or `funnel` (values as in
    the tables given: NaN where suppressed). Raises ValueError when a table's value
    contradicts the members (the sets would not be the rows' persons)."""
    members = members.reset_index(drop=True)
    outside = _outside_counts(funnel, members) if funnel is not None else None
    cells, weights = _cell_sets(members, by_group, outcomes, funnel, outside)
    universes = {name: _Universe(name, w, {}) for name, w in weights.items()}
    truth, variable, dimensions = [], [], {}
    for _, name, mask, dimension in cells:
        universe, bits = universes[name], _bits(mask)
        if not bits:  # an empty set is not known to be empty: a variable of its own
            variable.append(len(truth))
            truth.append(0.0)
            continue
        if bits not in universe.sets:
            universe.sets[bits] = len(truth)
            truth.append(universe.size(bits))
        variable.append(universe.sets[bits])
        dimensions.setdefault((name, bits), set()).add(dimension)
    equalities, inequalities, implicit = [], [], []
    for universe in universes.values():
        dims = {b: dimensions[(universe.name, b)] for b in universe.sets}
        eq, ub, imp = _relations(universe, dims)
        equalities += eq
        inequalities += ub
        implicit += imp
    index = {key: i for i, (key, *_) in enumerate(cells)}
    for (table, key, column), i in index.items():  # persons convicted ≤ their convictions
        if table == OUTCOME_TABLE and column in ("persons_before", "persons_after"):
            counts = index[(table, key, column.removeprefix("persons_"))]
            inequalities.append(((variable[i], 1.0), (variable[counts], -1.0)))
    values = np.array([np.nan if pd.isna(v) else float(v) for v in _values(outcomes, funnel)])
    model = AuditModel([c[0] for c in cells], np.array(variable, dtype=np.int64), values,
                       np.array(truth, dtype=np.float64), equalities, inequalities, implicit)
    _check_values(model)
    return PublishedCells(model, index)


def _values(outcomes, funnel):
    for record in ([] if outcomes is None else outcomes.to_dict("records")):
        yield from (record[c] for c in OUTCOME_COUNTS)
    for record in ([] if funnel is None else funnel.to_dict("records")):
        yield record["persons"]


def _check_values(model: AuditModel) -> None:
    for cell, variable, value in zip(model.cells, model.cell_variable, model.values,
                                     strict=True):
        truth = model.truth[variable]
        if not np.isnan(value) and not np.isnan(truth) and truth != value:
            raise ValueError(f"published {cell} disagrees with the persons of its set")
