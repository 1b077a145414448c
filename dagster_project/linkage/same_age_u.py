"""u of the area-and-offending levels among strangers of the client's age and sex.

Exports `area_u_same_age`, `with_same_age_area_u`.

Splink estimates each level's u from random pairs of clients and PNC nominals. For the
area comparison that is not the population the model meets: the pairs it scores agree on
the date of birth (or nearly) and on sex, so the strangers that compete for a client are of
its age and sex. Whether a person offended around the client's treatment depends on both
(most offending is by young men), so a same-age, same-sex stranger offends around the
treatment more often than a random PNC person does, and the random-pair u makes
"offended around the treatment" stronger evidence than it is. Here the area levels' u are
counted on random pairs of clients and nominals of the same birth year and sex (a sample
of each side, joined on both): the u the Bayes factors need, P(area level | not the same
person, same birth year and sex), since every scored pair already agrees on those. Levels
the sample meets fewer than `MIN_PAIRS` times keep Splink's estimate.
"""

import pandas as pd

from dagster_project.linkage.comparisons import AREA_NOTHING_KNOWN, area_levels

CLIENT_SAMPLE = 10_000
NOMINAL_SAMPLE = 100_000
MIN_PAIRS = 30
_COLUMNS = ("postcode", "force", "dat", "force_a", "quarters_a", "force_b", "quarters_b",
            "active_quarters")


def area_u_same_age(con, client_table: str, nominal_table: str, seed: int) -> pd.DataFrame:
    """Per area level (`label`, the last "All other comparisons"): `pairs` of the sample at
    that level and `u`, their share among pairs not at the null level."""
    levels = area_levels()
    case = " ".join(f"WHEN {sql} THEN {i}" for i, (sql, _) in enumerate(levels))
    sides = ", ".join([f"c.{c} AS {c}_l" for c in _COLUMNS]
                      + [f"n.{c} AS {c}_r" for c in _COLUMNS])
    counts = con.sql(f"""
        WITH c AS (SELECT * FROM {client_table} WHERE sex IS NOT NULL AND dob_year IS NOT NULL
                   USING SAMPLE reservoir({CLIENT_SAMPLE} ROWS) REPEATABLE ({seed})),
             n AS (SELECT * FROM {nominal_table} WHERE sex IS NOT NULL AND dob_year IS NOT NULL
                   USING SAMPLE reservoir({NOMINAL_SAMPLE} ROWS) REPEATABLE ({seed})),
             pairs AS (SELECT {sides} FROM c JOIN n ON c.dob_year = n.dob_year AND c.sex = n.sex)
        SELECT CASE WHEN {AREA_NOTHING_KNOWN} THEN -1 {case} ELSE {len(levels)} END AS level,
               count(*) AS pairs
        FROM pairs GROUP BY level
    """).df().set_index("level")["pairs"]
    labels = [label for _, label in levels] + ["All other comparisons"]
    pairs = counts.reindex(range(len(labels)), fill_value=0).to_numpy()
    return pd.DataFrame({"label": labels, "pairs": pairs, "u": pairs / max(pairs.sum(), 1)})


def with_same_age_area_u(model: dict, table: pd.DataFrame) -> dict:
    """`model` (Splink's JSON) with the area levels' u from `table` where the sample holds
    at least `MIN_PAIRS` pairs; records the table in `model["same_age_area_u"]`."""
    by_label = table.set_index("label")
    comparison = next(c for c in model["comparisons"] if c["output_column_name"] == "area")
    for level in comparison["comparison_levels"]:
        label = level.get("label_for_charts")
        if not level.get("is_null_level") and label in by_label.index \
                and by_label.at[label, "pairs"] >= MIN_PAIRS:
            level["u_probability"] = float(by_label.at[label, "u"])
    model["same_age_area_u"] = table.to_dict("records")
    return model
