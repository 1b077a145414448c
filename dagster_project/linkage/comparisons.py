"""The Fellegi-Sunter model's specification: comparisons, blocking and training rules.

Exports `COMPARISONS`, `PREDICTION_BLOCKING_RULES`, `TRAINING_BLOCKING_RULES`, `rule_sql`,
`PRIOR_RULE`, `settings_creator`.

Every SQL condition reads the same with `l` and `r` exchanged, because the two input
tables carry the same columns (features.py) and Splink decides which side is which.
Levels run from the most to the least specific; the first that holds decides. Splink's
library levels are used where it has one (null, exact match with term frequencies, reversed
columns, a date difference, else); the clerks' slips it has no level for are custom, each
measured by the benchmark's breakdown by kind of identity error (benchmarks/bench_linkage.py).
Why each custom level is not a library one:
- second forename, both women, broad ethnic group: a condition across two columns or on
  another column (`sex`), which no library level expresses;
- the date-of-birth slips: Splink's `DamerauLevenshteinLevel` and
  `AbsoluteDateDifferenceLevel` work on text (an edit distance, a date parsed from text)
  for every pair that reaches them, which is most of the ~30-90 million scored pairs;
  `_ONE_CHARACTER_SLIP` and `_WITHIN_A_YEAR` are the same conditions in integer arithmetic
  on columns features.py computes once per record (the edit distance was two fifths of
  the scoring's time on big-pnc). Placeholder, day/month swap and year-off-by-one compare
  parts of the date (the swap excludes day = month, which `ColumnsReversedLevel` would
  not);
- the area levels: one joint comparison of postcode, force and offending quarters (bitwise
  masks), for the reason `_area_and_offending` gives.
"""

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on

_DOB_SWAPPED = (
    "dob_year_l = dob_year_r AND dob_month_l = dob_day_r AND dob_day_l = dob_month_r"
)


def _one_character_slip() -> str:
    """Damerau-Levenshtein distance 1 between the two 'YYYY-MM-DD' texts (one character
    differs, or two adjacent ones are exchanged), on `dob_digits`: one nibble per
    character, the dashes zero nibbles (features.py). XOR leaves a nonzero nibble where
    the characters differ; folding each nibble's bits onto its lowest marks those nibbles,
    and their count is the Hamming distance. An exchange is two marked nibbles side by
    side (the dashes never differ, so the year's last digit and the month's first are not
    side by side, as in the text) whose digits are each other's."""
    x = "xor(dob_digits_l, dob_digits_r)"
    differing = f"(({x} | ({x} >> 1) | ({x} >> 2) | ({x} >> 3)) & {0x1111111111})"
    lower_of_two = f"({differing} & ({differing} >> 4))"  # a marked nibble's next is marked
    nibble = f"({lower_of_two} * 15)"
    return (f"(bit_count({differing}) = 1 OR (bit_count({differing}) = 2 "
            f"AND {lower_of_two} <> 0 "
            f"AND (xor(dob_digits_l >> 4, dob_digits_r) & {nibble}) = 0 "
            f"AND (xor(dob_digits_r >> 4, dob_digits_l) & {nibble}) = 0))")


_ONE_CHARACTER_SLIP = _one_character_slip()
# Splink's AbsoluteDateDifferenceLevel(threshold=366, metric="day") on days since 1970
_WITHIN_A_YEAR = "abs(dob_days_l - dob_days_r) <= 366"
_SECOND_FORENAME = "(first_initial_l = second_initial_r OR second_initial_l = first_initial_r)"


def _exact(column: str, tf: bool = False) -> cll.ExactMatchLevel:
    return cll.ExactMatchLevel(column, term_frequency_adjustments=tf)


# The initials' term-frequency u is not Splink's national count alone: rare initials may
# gather where people of one origin live, so the u of the strangers that come close to a
# client is their frequency among neighbours; term_frequencies.py estimates it from the
# delivery's PNC nominals and gives it to the scoring linker. There is no floor on it.
# A fixed floor of 0.03 stood here until 2026-12-07, the one parameter not from the
# delivery: without it the client-level EM settled where strangers with rare initials and
# another date of birth counted as matches. Since a PNC person's identities count as one
# mixture (posterior.py), not each as a full chance of agreement, EM no longer drifts
# without the floor, and with it the pairs of weak evidence fell 6-9 points short of
# their probabilities (national, seed 7: README).

# Starting values only: every m is trained by EM on the delivery (probabilistic.py), u by
# random sampling. The starting values say no more than "agreement is likely for the same
# person, slips are rare".
_START_M = {"exact": 0.95, "second": 0.005, "swap": 0.002, "woman": 0.02, "else": 0.02}


def _first_initial() -> cl.CustomComparison:
    return cl.CustomComparison(output_column_name="first_initial", comparison_levels=[
        cll.NullLevel("first_initial"),
        _exact("first_initial", tf=True).configure(
            m_probability=_START_M["exact"]),
        # known by the middle name: one side's first initial is the other's second forename
        cll.CustomLevel(_SECOND_FORENAME, "the other side's second forename").configure(
            m_probability=_START_M["second"]),
        cll.ColumnsReversedLevel("first_initial", "surname_initial", symmetrical=True)
        .configure(label_for_charts="swapped with the surname initial",
                   m_probability=_START_M["swap"]),
        cll.ElseLevel().configure(m_probability=_START_M["else"]),
    ])


def _surname_initial() -> cl.CustomComparison:
    return cl.CustomComparison(output_column_name="surname_initial", comparison_levels=[
        cll.NullLevel("surname_initial"),
        _exact("surname_initial", tf=True).configure(
            m_probability=_START_M["exact"]),
        # women change surnames on marriage, and the PNC need not know the new one
        cll.CustomLevel("sex_l = '2' AND sex_r = '2'", "different, both women").configure(
            m_probability=_START_M["woman"]),
        cll.ElseLevel().configure(m_probability=_START_M["else"]),
    ])


# Starting m probabilities of the date-of-birth levels; EM refines them on blocks of same
# initials and postcode. With area and offending one joint comparison (below), that block
# does not teach EM that "same area" is "same person": the area is the block's own column,
# so EM separates its classes by date of birth, sex and ethnicity alone.
DOB_M = {"exact": 0.93, "placeholder": 0.005, "swap": 0.004, "year": 0.008, "slip": 0.015,
         "near": 0.008, "else": 0.03}
_PLACEHOLDER = ("dob_year_l = dob_year_r AND ((dob_month_l = 1 AND dob_day_l = 1) "
                "OR (dob_month_r = 1 AND dob_day_r = 1))")


def _date_of_birth() -> cl.CustomComparison:
    """Exact, then the clerks' habits NDTMS and PNC records show: 1 January of the right
    year standing for an unknown date, day and month swapped, the year off by one, one
    character mistyped or two adjacent ones transposed (12 for 21, 1957 for 1975), and
    anything else within a year."""
    levels = [
        ("exact", _exact("dob", tf=True)),
        ("placeholder", cll.CustomLevel(_PLACEHOLDER, "1 January of the same year")),
        ("swap", cll.CustomLevel(f"{_DOB_SWAPPED} AND dob_day_l <> dob_month_l",
                                 "day/month swap")),
        ("year", cll.CustomLevel(
            "dob_month_l = dob_month_r AND dob_day_l = dob_day_r "
            "AND abs(dob_year_l - dob_year_r) = 1", "year off by one")),
        ("slip", cll.CustomLevel(_ONE_CHARACTER_SLIP, "one character slip or transposition")),
        ("near", cll.CustomLevel(_WITHIN_A_YEAR, "within a year")),
        ("else", cll.ElseLevel()),
    ]
    return cl.CustomComparison(output_column_name="dob", comparison_levels=[
        cll.NullLevel("dob"),
        *(level.configure(m_probability=DOB_M[name]) for name, level in levels),
    ])


def _sex() -> cl.CustomComparison:
    return cl.CustomComparison(output_column_name="sex", comparison_levels=[
        cll.NullLevel("sex"), _exact("sex").configure(m_probability=0.98),
        cll.ElseLevel().configure(m_probability=0.02),
    ])


def _ethnicity() -> cl.CustomComparison:
    # 'W1' agrees for most pairs, 'A3' for few: term frequencies weigh that
    return cl.CustomComparison(output_column_name="ethnicity", comparison_levels=[
        cll.NullLevel("ethnicity"),
        _exact("ethnicity", tf=True).configure(m_probability=0.9),
        cll.CustomLevel("substr(ethnicity_l, 1, 1) = substr(ethnicity_r, 1, 1)",
                        "same broad group").configure(m_probability=0.05),
        cll.ElseLevel().configure(m_probability=0.05),
    ])


def _shares_quarter(a: str, b: str) -> str:
    return (f"(force_{a}_l = force_{b}_r "
            f"AND (quarters_{a}_l & quarters_{b}_r) <> 0::UHUGEINT)")


# A client carries its force in `a` (b empty), a PNC person its two main forces in `a` and
# `b`; these three terms are all the pairings and read the same with l and r exchanged.
_OFFENDED_IN_FORCE = "(" + " OR ".join(
    _shares_quarter(a, b) for a, b in (("a", "a"), ("a", "b"), ("b", "a"))) + ")"
_OFFENDED_AROUND_TREATMENT = "(active_quarters_l & active_quarters_r) <> 0::UHUGEINT"
_AREA_KNOWN = "(force_l IS NOT NULL AND force_r IS NOT NULL)"
_SAME_POSTCODE = "postcode_l = postcode_r"
_SAME_FORCE = "force_l = force_r"
_SAME_DAT = "dat_l = dat_r"
_POSTCODE_UNKNOWN = "(postcode_l IS NULL OR postcode_r IS NULL)"


# a pair of which one side records none of postcode, force and offending: the null level
AREA_NOTHING_KNOWN = ("(postcode_l IS NULL OR postcode_r IS NULL) "
                      "AND (force_l IS NULL OR force_r IS NULL) "
                      "AND (active_quarters_l IS NULL OR active_quarters_r IS NULL)")


def area_levels() -> list[tuple[str, str]]:
    """The area comparison's levels (SQL, label) but the null and the last ("all other")."""
    return [
        (f"{_SAME_POSTCODE} AND {_OFFENDED_IN_FORCE}",
         "same postcode, offended in the treatment force"),
        (_SAME_POSTCODE, "same postcode"),
        # a client's DAT against the DAT of the person's postcode: where one postcode is
        # unrecorded, an area some six times narrower than the force (features.py)
        (f"{_SAME_DAT} AND {_POSTCODE_UNKNOWN} AND {_OFFENDED_IN_FORCE}",
         "same drug action team, postcode unknown, offended in the treatment force"),
        (f"{_SAME_DAT} AND {_POSTCODE_UNKNOWN}", "same drug action team, postcode unknown"),
        # the same force with a postcode unrecorded is not "another postcode in the same
        # force" (evidence against the same home): levels of its own, so that a delivery
        # that leaves postcodes empty does not blend the two (see the null level)
        (f"{_SAME_FORCE} AND {_POSTCODE_UNKNOWN} AND {_OFFENDED_IN_FORCE}",
         "same police force, postcode unknown, offended in the treatment force"),
        (f"{_SAME_FORCE} AND {_POSTCODE_UNKNOWN}", "same police force, postcode unknown"),
        (f"{_SAME_FORCE} AND {_OFFENDED_IN_FORCE}",
         "same police force, offended in the treatment force"),
        (_SAME_FORCE, "same police force"),
        (_OFFENDED_IN_FORCE, "elsewhere, offended in the treatment force"),
        # people who come to treatment with a record are mostly offending around then
        (f"{_AREA_KNOWN} AND {_OFFENDED_AROUND_TREATMENT}",
         "elsewhere, offended around the treatment"),
        # an unrecorded postcode says nothing about where a person lives: "area unknown"
        # must not pass for "elsewhere", which is evidence against a link
        (_OFFENDED_AROUND_TREATMENT, "area unknown, offended around the treatment"),
        (f"NOT {_AREA_KNOWN}", "area unknown"),
    ]


def _area_and_offending() -> cl.CustomComparison:
    """Where the person lives and whether they offended in the client's treatment force
    within two years of a treatment start, as one comparison with joint levels.

    Two comparisons would multiply their Bayes factors as if independent; but a stranger
    living in the client's postcode very likely offends in the client's force too (most
    offences are recorded at home), so the product counts the same evidence about twice
    and lifts same-area strangers with another date of birth over the floor. Joint levels
    take their u probabilities from random pairs as they come, dependence included."""
    return cl.CustomComparison(output_column_name="area", comparison_levels=[
        cll.CustomLevel(AREA_NOTHING_KNOWN, "nothing known").configure(is_null_level=True),
        *(cll.CustomLevel(sql, label).configure(m_probability=m)
          for (sql, label), m in zip(area_levels(), AREA_START_M[:-1], strict=True)),
        cll.ElseLevel().configure(m_probability=AREA_START_M[-1]),
    ])


# Starting values only (EM trains them): most people are treated where they live and offend
# there; a sixth of pairs of the same person say nothing of the sort.
AREA_START_M = (0.4, 0.15, 0.1, 0.05, 0.1, 0.05, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05)


def comparisons() -> list[cl.CustomComparison]:
    return [_first_initial(), _surname_initial(), _date_of_birth(), _sex(), _ethnicity(),
            _area_and_offending()]


def rule_sql(rule) -> str:
    """A blocking rule's SQL condition (`l.` the client, `r.` the PNC identity)."""
    return rule if isinstance(rule, str) else rule.get_blocking_rule("duckdb").blocking_rule_sql


# Narrow rules, one per kind of slip, rather than one wide OR: each is an equi-join that
# DuckDB hashes, and together they bound the pairs at national scale (~tens of millions)
# while a true pair with one slip still meets at least one of them.
PREDICTION_BLOCKING_RULES = [
    block_on("dob", "sex", "surname_initial"),  # first initial wrong
    block_on("dob", "sex", "first_initial"),  # surname initial wrong
    block_on("first_initial", "surname_initial", "sex", "dob_year", "dob_month"),  # day
    block_on("first_initial", "surname_initial", "sex", "dob_month", "dob_day"),  # year
    "l.sex = r.sex AND l.first_initial = r.first_initial "  # day and month swapped
    "AND l.surname_initial = r.surname_initial AND l.dob_year = r.dob_year "
    "AND l.dob_month = r.dob_day AND l.dob_day = r.dob_month",
    "l.dob = r.dob AND l.first_initial = r.surname_initial "  # initials swapped
    "AND l.surname_initial = r.first_initial",
    block_on("first_initial", "surname_initial", "postcode"),  # a date far off, same area
    # 1 January standing for an unknown date, on either side: a rule per side, so that the
    # engine filters that side before the join (one rule with an OR between the sides
    # joins every same-year pair first, ~100 million nationally, then filters)
    *(f"l.first_initial = r.first_initial AND l.surname_initial = r.surname_initial "
      f"AND l.sex = r.sex AND l.dob_year = r.dob_year "
      f"AND {side}.dob_month = 1 AND {side}.dob_day = 1" for side in ("l", "r")),
]

# EM sessions: each estimates m for the comparisons whose SQL reads none of its rule's
# columns (Splink's rule), on narrow blocks where true pairs are the bulk, so that EM's
# "match" class is the same person and not merely the same area: the first leaves the
# initials free, the second the area, the third the date of birth.
TRAINING_BLOCKING_RULES = [
    block_on("dob", "postcode"),
    block_on("first_initial", "surname_initial", "dob"),
    block_on("first_initial", "surname_initial", "postcode"),
]

# Exact agreement on the attributor: the NTA rule, used to estimate how many pairs match.
PRIOR_RULE = block_on("first_initial", "surname_initial", "dob", "sex")
PRIOR_RULE_RECALL = 0.9


def settings_creator() -> SettingsCreator:
    return SettingsCreator(
        link_type="link_only",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=PREDICTION_BLOCKING_RULES,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        em_convergence=0.001,
        max_iterations=20,
    )
