"""Staging rules of METHOD.md §9, one defective fixture per rule, boundaries included."""

import pandas as pd
import pytest

from dagster_project.delivery.manifest import verify_delivery
from dagster_project.delivery.raw import read_extract
from dagster_project.delivery.reference import REFERENCE_TABLES, load_reference
from dagster_project.delivery.schemas import DELIVERY_FILES, REJECT_COLUMNS, STAGED_COLUMNS
from dagster_project.staging import stage_delivery, unknown_code_counts
from tests.delivery_factory import alias, episode, make_delivery, nominal, offence

REFS = {name: load_reference(name) for name in REFERENCE_TABLES}
EPISODES, NOMINALS, ALIASES, OFFENCES = DELIVERY_FILES


def _stage(tmp_path, **rows):
    """Stage a delivery whose files hold `rows` (keyword: file stem), else one valid row."""
    folder = make_delivery(tmp_path, rows={f"{stem}.csv": r for stem, r in rows.items()})
    delivery = verify_delivery(folder)
    raws = {f: read_extract(delivery, f)[0] for f in DELIVERY_FILES}
    staged, rejects = stage_delivery(raws, REFS)
    for f in DELIVERY_FILES:  # every delivered row accounted for, once
        mine = rejects[rejects.source_file == f]
        assert len(raws[f]) == len(staged[f]) + len(mine)
        assert set(staged[f].line_number).isdisjoint(mine.line_number)
    return staged, rejects


def _reasons(rejects, file_name):
    """line -> reason for one file's rejects."""
    mine = rejects[rejects.source_file == file_name]
    return dict(zip(mine.line_number, mine.reason, strict=True))


def test_staged_columns_types_and_provenance(tmp_path):
    staged, rejects = _stage(tmp_path)
    assert list(rejects.columns) == REJECT_COLUMNS and len(rejects) == 0
    for f in DELIVERY_FILES:
        frame = staged[f]
        expected = list(STAGED_COLUMNS[f]) + ["extract_date", "source_file", "line_number"]
        assert list(frame.columns) == expected
        for name, kind in STAGED_COLUMNS[f].items():
            dtype = frame[name].dtype
            assert {
                "date": dtype.kind == "M",
                "Int64": dtype == "Int64",
                "str": dtype == "str",
                "bool": dtype == "bool",
            }[kind], (f, name, dtype)
    ep = staged[EPISODES].iloc[0]
    assert ep.triaged == pd.Timestamp("2006-05-10") and ep.dob == pd.Timestamp("1975-03-02")
    assert (ep.finitial, ep.sex, ep.modal) == ("J", "1", 3)


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"TRIAGED": ""}, "TRIAGED missing"),
        ({"TRIAGED": "2006-05-10"}, "TRIAGED unparseable"),  # ISO in an NDTMS file
        ({"TRIAGED": "10/5/2006"}, "TRIAGED unparseable"),
        ({"DOB": ""}, "DOB missing"),
        ({"DOB": "31/02/1975"}, "DOB unparseable"),
        ({"DOB": "29/02/2005"}, "DOB unparseable"),
        ({"SEX": ""}, "SEX missing"),
        ({"SEX": "M"}, "SEX not 1, 2 or 9"),
        ({"SEX": "1 "}, "SEX not 1, 2 or 9"),
        ({"DISD": "1/12/2006"}, "DISD unparseable"),
        ({"DISD": "09/05/2006"}, "DISD before TRIAGED"),  # one day before
        ({"DOB": "11/05/2006"}, "DOB after TRIAGED"),
        ({"TRIAGED": "", "DOB": "x"}, "TRIAGED missing"),  # the first failing rule wins
        ({"SEX": "3", "DISD": "01/01/2000"}, "SEX not 1, 2 or 9"),
    ],
)
def test_episode_rejected(tmp_path, changes, reason):
    staged, rejects = _stage(tmp_path, ndtms_episodes=[episode(EPISODID="0"), episode(**changes)])
    assert _reasons(rejects, EPISODES) == {3: reason}
    assert "1975" not in reason


@pytest.mark.parametrize(
    "changes",
    [
        {"DISD": "10/05/2006"},  # discharged on the triage day
        {"DOB": "10/05/2006"},  # born on the triage day
        {"DOB": "29/02/2004", "TRIAGED": "01/03/2006"},  # a real leap day
        {"DISD": "", "DISRSN": ""},  # open
        {"REFLD": "2006-05-01", "MODST": "31/02/2006", "MODAL": "13", "MODEND": "x"},
        {"DRUG1": "9999", "RFLS": "77", "DISRSN": "99"},  # unknown codes never reject
    ],
)
def test_episode_staged(tmp_path, changes):
    staged, rejects = _stage(tmp_path, ndtms_episodes=[episode(**changes)])
    assert len(rejects) == 0 and len(staged[EPISODES]) == 1


def test_unparseable_optional_fields_are_staged_missing(tmp_path):
    changes = {"REFLD": "2006-05-01", "MODST": "31/02/2006", "MODAL": "13", "MODEND": "x"}
    ep = _stage(tmp_path, ndtms_episodes=[episode(**changes)])[0][EPISODES].iloc[0]
    assert pd.isna(ep.refld) and pd.isna(ep.modst) and pd.isna(ep.modend)
    assert ep.modal is pd.NA


def test_duplicate_episode_judged_against_every_earlier_row(tmp_path):
    rows = [
        episode(EPISODID="E1", SEX="M"),  # rejected itself, still counts as earlier
        episode(EPISODID="E1"),
        episode(EPISODID="E2"),
        episode(EPISODID="E2", CLIENTID="other"),
        episode(EPISODID="E2", AGNCY="A02"),  # another agency: not a repeat
    ]
    staged, rejects = _stage(tmp_path, ndtms_episodes=rows)
    repeat = "(AGNCY, EPISODID) repeats an earlier row"
    assert _reasons(rejects, EPISODES) == {2: "SEX not 1, 2 or 9", 3: repeat, 5: repeat}
    assert list(staged[EPISODES].line_number) == [4, 6]
    assert staged[EPISODES].clientid[0] == "C1"  # the first is kept


def test_codes_mapped(tmp_path):
    rows = [
        episode(RFLS="4", DRUG1="3200", DRUG2="", DRUG3="0000", DISRSN="6"),
        episode(EPISODID="E2", RFLS="77", DRUG1="", DISRSN="99"),
        episode(EPISODID="E3", RFLS="", DISD="", DISRSN=""),
    ]
    staged = _stage(tmp_path, ndtms_episodes=rows)[0][EPISODES]
    assert list(staged.referral_route) == ["self", "other", "other"]
    assert list(staged.drug1_class.fillna("-")) == ["cocaine", "-", "opiate"]
    assert list(staged.drug2_class.fillna("-")) == ["-", "crack", "crack"]
    assert list(staged.drug3_class.fillna("-")) == ["unknown", "-", "-"]
    assert list(staged.exit_group.fillna("-")) == ["dropped_out", "other", "-"]
    counts = unknown_code_counts(staged)
    assert counts == {"RFLS": 2, "DRUG1": 0, "DRUG2": 0, "DRUG3": 1, "DISRSN": 1}


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"OFFENCE_START": ""}, "OFFENCE_START missing"),
        ({"OFFENCE_START": "01/01/2006"}, "OFFENCE_START unparseable"),
        ({"OFFENCE_START": "2006-02-29"}, "OFFENCE_START unparseable"),
        ({"OUTCOME": ""}, "OUTCOME missing"),
        ({"OUTCOME": "c"}, "OUTCOME not C, A, W, K or P"),
        ({"OUTCOME_DATE": ""}, "OUTCOME_DATE missing for OUTCOME C or K"),
        (
            {"OUTCOME": "K", "OUTCOME_DATE": "2006-13-01"},
            "OUTCOME_DATE unparseable for OUTCOME C or K",
        ),
        ({"PNCID": "2000/0000000X"}, "PNCID not among staged nominals"),
        ({"PNCID": ""}, "PNCID not among staged nominals"),
        ({"OFFENCE_SEQ": "1"}, "(ASN, OFFENCE_SEQ) repeats an earlier row"),
        ({"OFFENCE_START": "", "PNCID": "nobody", "OFFENCE_SEQ": "1"}, "OFFENCE_START missing"),
    ],
)
def test_offence_rejected(tmp_path, changes, reason):
    rows = [offence(), offence(OFFENCE_SEQ="2") | changes]
    staged, rejects = _stage(tmp_path, pnc_offences=rows)
    assert _reasons(rejects, OFFENCES) == {3: reason}


@pytest.mark.parametrize(
    "changes",
    [
        {"OUTCOME": "P", "OUTCOME_DATE": ""},
        {"OUTCOME": "A", "OUTCOME_DATE": "not a date"},
        {"OUTCOME": "W", "OFFENCE_END": "2006/01/02", "CUSTODY_DAYS": "-3", "OFFENCE_SEQ": "x"},
    ],
)
def test_offence_staged_with_missing_optional_values(tmp_path, changes):
    rows = [offence(), offence(OFFENCE_SEQ="2") | changes]
    staged = _stage(tmp_path, pnc_offences=rows)[0][OFFENCES]
    assert len(staged) == 2
    first, second = staged.iloc[0], staged.iloc[1]
    assert (first.offence_seq, first.custody_days) == (1, 60)
    for field in ("OUTCOME_DATE", "OFFENCE_END", "CUSTODY_DAYS", "OFFENCE_SEQ"):
        if field in changes:
            assert pd.isna(second[field.lower()]), field


def test_initials_upper_cased_and_empty_missing(tmp_path):
    rows = [episode(FINITIAL="j", SINITIAL="s"), episode(EPISODID="E2", FINITIAL="", SINITIAL="Ø")]
    staged = _stage(tmp_path, ndtms_episodes=rows)[0][EPISODES]
    assert list(staged.finitial.fillna("-")) == ["J", "-"]
    assert list(staged.sinitial) == ["S", "Ø"]


def test_offence_repeat_after_a_rejected_first_row_still_rejected(tmp_path):
    rows = [offence(PNCID="nobody"), offence(), offence(ASN="other")]
    staged, rejects = _stage(tmp_path, pnc_offences=rows)
    assert _reasons(rejects, OFFENCES) == {
        2: "PNCID not among staged nominals",
        3: "(ASN, OFFENCE_SEQ) repeats an earlier row",
    }
    assert list(staged[OFFENCES].line_number) == [4]


@pytest.mark.parametrize(
    "code, group, trigger",
    [
        ("TH68010", "theft", True),
        ("TH68010A", "theft", True),  # attempted theft
        ("TH68020A", "robbery", True),
        ("FR06001A", "fraud", True),
        ("TH68010B", "theft", False),
        ("TH68010C", "theft", False),
        ("TH68010I", "theft", False),
        ("TH68030A", "vehicle", False),  # attempt counts only in the five groups
        ("MD71200A", "drug_supply", False),
        ("OF61047A", "violence", False),
        ("OF61047", "violence", False),
        ("MD71101", "drug_possession", False),  # Class B never
        ("MD71240", "drug_supply", False),
        ("TH68010AA", "theft", False),
        ("XX99999", "unknown", False),
        ("TH6801", "unknown", False),
    ],
)
def test_offence_classified_by_first_seven_characters_and_suffix(tmp_path, code, group, trigger):
    staged = _stage(tmp_path, pnc_offences=[offence(CJS_CODE=code)])[0][OFFENCES]
    assert (staged.offence_group[0], bool(staged.trigger[0])) == (group, trigger)
    assert staged.cjs_code[0] == code  # delivered text kept
    assert unknown_code_counts(staged) == {"CJS_CODE": int(group == "unknown")}


def test_nominals_repeat_and_dob(tmp_path):
    rows = [
        nominal(PNCID="P1", DOB="1975-02-30"),  # rejected, but still an earlier row
        nominal(PNCID="P1"),
        nominal(PNCID="P2", DOB=""),  # empty DOB: staged, missing
        nominal(PNCID="P3", DOB="02/03/1975"),
        nominal(PNCID="P2"),
    ]
    offences = [offence(PNCID="P1"), offence(PNCID="P2", OFFENCE_SEQ="2")]
    staged, rejects = _stage(
        tmp_path, pnc_nominals=rows, pnc_aliases=[alias(PNCID="P2")], pnc_offences=offences
    )
    assert _reasons(rejects, NOMINALS) == {
        2: "DOB unparseable",
        3: "PNCID repeats an earlier row",
        5: "DOB unparseable",
        6: "PNCID repeats an earlier row",
    }
    assert list(staged[NOMINALS].pncid) == ["P2"] and pd.isna(staged[NOMINALS].dob[0])
    # P1 has no staged nominal, so its offences go too
    assert _reasons(rejects, OFFENCES) == {2: "PNCID not among staged nominals"}
    assert len(staged[ALIASES]) == 1


def test_aliases(tmp_path):
    rows = [alias(), alias(DOB="1976-04-01"), alias(DOB="1976-4-1"), alias(PNCID="P9")]
    staged, rejects = _stage(tmp_path, pnc_aliases=rows)
    assert _reasons(rejects, ALIASES) == {
        4: "DOB unparseable",
        5: "PNCID not among staged nominals",
    }
    assert staged[ALIASES].dob.isna().tolist() == [True, False]
    assert staged[ALIASES].forenames[0] == "Zoë"


def test_rejects_in_file_then_line_order(tmp_path):
    _, rejects = _stage(
        tmp_path,
        ndtms_episodes=[episode(SEX="")],
        pnc_nominals=[nominal(), nominal()],
        pnc_offences=[offence(OUTCOME="X"), offence(OUTCOME="Y")],
    )
    assert list(zip(rejects.source_file, rejects.line_number, strict=True)) == [
        (EPISODES, 2),
        (NOMINALS, 3),
        (OFFENCES, 2),
        (OFFENCES, 3),
    ]
    assert rejects.line_number.dtype == "int64" and set(rejects.extract_date) == {"2009-10-31"}


def test_dates_parsed_in_blocks_agree_with_the_calendar(monkeypatch):
    import datetime as dt

    from dagster_project.staging import dates

    monkeypatch.setattr(dates, "_BLOCK_ROWS", 5)
    texts = [
        f"{d:02d}/{m:02d}/{y}"
        for y in (1900, 2000, 2004, 2005)
        for m in range(14)
        for d in range(33)
    ] + [None, "1/1/2000", "2000-01-01", "01/01/2000 "]
    parsed = dates.parse_dates(pd.Series(texts, dtype="str"), dates.NDTMS_DATE)
    for text, value, bad in zip(texts, parsed.values, parsed.unparseable, strict=True):
        try:
            expected = pd.Timestamp(dt.datetime.strptime(text, "%d/%m/%Y"))
        except (TypeError, ValueError):
            expected = pd.NaT
        if text is not None and len(text) != 10:
            expected = pd.NaT  # strptime would accept 1/1/2000; the contract does not
        assert (pd.isna(value) and pd.isna(expected)) or value == expected, text
        assert bad == (text is not None and pd.isna(expected)), text
