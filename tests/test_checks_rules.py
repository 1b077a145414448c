"""The reconciliation, soft and privacy checks on small handwritten frames: each fails on
defective data and passes on clean data; failure metadata holds positions, never values."""

import subprocess
import sys

import pandas as pd

from checks import reconcile, soft
from checks.framework import Check, check_result
from checks.ge_runner import run_suite
from checks.suites_delivery import staged_suite

FUNNEL = pd.DataFrame({
    "stage": ["starters", "adult_starters", "matched", "absent", "ambiguous",
              "study_population", "cohort"],
    "persons": pd.array([100, 90, 50, 30, 10, 80, 2], dtype="Int64"),
})
MEMBERS = pd.DataFrame({"person_key": ["k1", "k2"], "link_status": ["matched", "absent"],
                        "before": [2, 1], "after": [1, 0]})
BY_GROUP = pd.DataFrame({"person_key": ["k1", "k1", "k2"], "offence_group": ["theft", "fraud",
                         "theft"], "before": [1, 1, 1], "after": [1, 0, 0]})


def _funnel(**persons) -> pd.DataFrame:
    table = FUNNEL.set_index("stage")
    for stage, value in persons.items():
        table.loc[stage, "persons"] = value
    return table.reset_index()


def test_funnel_reconciles_on_clean_and_fails_on_each_breach():
    assert all(o.passed for o in reconcile.funnel_reconciles(FUNNEL, MEMBERS))
    for breach in ({"cohort": 95}, {"ambiguous": 11}, {"absent": 31}, {"cohort": 3}):
        outcomes = reconcile.funnel_reconciles(_funnel(**breach), MEMBERS)
        assert not all(o.passed for o in outcomes), breach


def test_funnel_suppressed_cells_are_not_reconciled():
    hidden = _funnel(ambiguous=pd.NA, absent=pd.NA)
    assert all(o.passed for o in reconcile.funnel_reconciles(hidden, MEMBERS))


def test_by_group_sums_and_all_row():
    assert reconcile.by_group_sums(MEMBERS, BY_GROUP)[0].passed
    broken = BY_GROUP.assign(after=[1, 1, 0])
    [outcome] = reconcile.by_group_sums(MEMBERS, broken)
    assert not outcome.passed and outcome.examples == ("k1",)

    row = {"dimension": "all", "group": "all", "n": 2, "before": 3, "after": 1,
           "persons_before": 2, "persons_after": 1}
    table = pd.DataFrame([row])
    assert reconcile.all_row_reconciles(table, MEMBERS)[0].passed
    assert not reconcile.all_row_reconciles(table.assign(after=2), MEMBERS)[0].passed
    # a suppressed cell (missing) is not compared
    suppressed = table.astype({"after": "Int64"}).assign(after=pd.NA)
    assert reconcile.all_row_reconciles(suppressed, MEMBERS)[0].passed


def test_no_identifiers():
    assert reconcile.no_identifiers(["person_key", "triaged"])[0].passed
    [outcome] = reconcile.no_identifiers(["person_key", "dob", "pncid"])
    assert not outcome.passed and outcome.examples == ("dob", "pncid")


def test_reject_share_and_unknown_codes():
    assert soft.reject_share("f.csv", 1000, 50, 0.05).passed
    assert not soft.reject_share("f.csv", 1000, 51, 0.05).passed
    assert soft.unknown_code_shares({"DRUG1": 1}, 1000, 0.001).passed
    assert not soft.unknown_code_shares({"DRUG1": 2}, 1000, 0.001).passed


def test_link_share_drift_and_bounds():
    bounds = {"matched": (0.1, 0.9), "absent": (0.05, 0.8), "ambiguous": (0, 0.5)}
    assert soft.link_share_drift(FUNNEL, None, 0.1).passed
    assert soft.link_share_drift(FUNNEL, _funnel(matched=55, absent=25), 0.1).passed
    assert not soft.link_share_drift(FUNNEL, _funnel(matched=70, absent=10), 0.1).passed
    assert soft.link_share_bounds(FUNNEL, bounds).passed
    assert not soft.link_share_bounds(_funnel(ambiguous=60), bounds).passed


def test_plausible_reduction():
    table = pd.DataFrame({"dimension": ["all"], "reduction": [0.26]})
    assert soft.plausible_reduction(table, -0.5, 0.9).passed
    assert not soft.plausible_reduction(table.assign(reduction=0.95), -0.5, 0.9).passed


def test_failure_metadata_names_rule_and_lines_never_values():
    nominals = pd.DataFrame({
        "pncid": ["1998/0410925R", "1998/0410925R"], "surname": ["O'Brien", "O'Brien"],
        "forenames": ["John", "John"],
        "dob": pd.to_datetime(["1975-03-02", "1975-03-02"]), "sex": ["M", "M"],
        "postcode": [None, None], "force": ["01", "01"], "ethnicity": [None, None],
        "extract_date": ["2009-10-31"] * 2, "source_file": ["pnc_nominals.csv"] * 2,
        "line_number": [2, 7],
    }).astype({"postcode": "str", "ethnicity": "str"})
    rules = staged_suite("pnc_nominals.csv")
    outcomes = run_suite("nominals", nominals, rules, ["source_file", "line_number"])
    result = check_result(Check("staged_pnc_nominals", "contract", "", None), outcomes)
    assert not result.passed and result.metadata["failed_rules"].value == 1
    text = str(result.metadata) + str(result.description)
    assert "pncid unique" in text and "pnc_nominals.csv:2" in text
    for value in ("0410925R", "O'Brien", "John", "1975"):
        assert value not in text


def test_ge_is_imported_lazily_and_prints_no_progress_bars():
    code = (
        "import sys, pandas as pd; import checks; "
        "assert 'great_expectations' not in sys.modules; "
        "from checks.ge_runner import run_suite; from checks.rules import not_null; "
        "[o] = run_suite('t', pd.DataFrame({'a': [1, None]}), [not_null('a')]); "
        "assert not o.passed and o.examples == ('row 1',), o"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Calculating Metrics" not in done.stderr + done.stdout
