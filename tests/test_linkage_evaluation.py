"""Scoring linkage against the generator's truth: crafted truth, then a `tiny` world."""

from pathlib import Path

import pandas as pd
import pytest

from dagster_project.linkage import client_identities, nta_links, pnc_identity_variants
from dagster_project.linkage.evaluation import (
    adult_starters,
    client_truth,
    error_breakdown,
    evaluate_links,
)
from dagster_project.settings import Settings

ATTRIBUTORS = [("A", "B", "1980-01-02", "1"), ("C", "D", "1981-02-03", "2"),
               ("E", "F", "1982-03-04", "1"), ("G", "H", "1983-04-05", "1")]


def _crafted(tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Four clients: 0 has record P0, 1 has P1 (and a duplicate P1b), 2 has none, 3 is two
    persons sharing an attributor, one of them with record P3."""
    rows = [(*a, p, e) for a, p, e in zip(ATTRIBUTORS, [0, 1, 2, 3],
                                         ["none", "dob_digit", "none", "none"], strict=True)]
    rows.append((*ATTRIBUTORS[3], 4, "wrong_finitial"))
    records = pd.DataFrame(rows, columns=["FINITIAL", "SINITIAL", "DOB", "SEX", "person_id",
                                          "error"])
    records.to_parquet(tmp_path / "client_records.parquet")
    pd.DataFrame({"PNCID": ["P0", "P1", "P1b", "P3"], "person_id": [0, 1, 1, 4]}).to_parquet(
        tmp_path / "pnc_records.parquet")
    clients = pd.DataFrame(ATTRIBUTORS, columns=["finitial", "sinitial", "dob", "sex"])
    clients["dob"] = pd.to_datetime(clients["dob"])
    return clients, client_truth(tmp_path, clients)


def _links(statuses, pncids) -> pd.DataFrame:
    return pd.DataFrame({"link_status": statuses, "pncid": pd.Series(pncids, dtype="str")})


def test_client_truth(tmp_path):
    _, truth = _crafted(tmp_path)
    assert truth["true_pncids"].tolist() == [
        frozenset({"P0"}), frozenset({"P1", "P1b"}), frozenset(), frozenset({"P3"})]
    assert truth["error"].tolist() == ["none", "dob_digit", "none", "none+wrong_finitial"]


def test_precision_recall_and_false_links(tmp_path):
    _, truth = _crafted(tmp_path)
    links = _links(["matched", "matched", "matched", "ambiguous"], ["P0", "P1b", "P3", None])
    summary = evaluate_links(links, truth)
    assert (summary["matched"], summary["correct"]) == (3, 2)
    assert summary["precision"] == pytest.approx(2 / 3)
    assert summary["recall"] == pytest.approx(2 / 3)  # clients 0, 1, 3 have a record
    assert summary["false_links_without_record"] == 1
    assert summary["share_ambiguous"] == pytest.approx(0.25)


def test_correct_where_the_baseline_is_ambiguous_and_masks(tmp_path):
    _, truth = _crafted(tmp_path)
    links = _links(["matched", "absent", "absent", "matched"], ["P0", None, None, "P3"])
    baseline = _links(["ambiguous", "absent", "absent", "ambiguous"], [None] * 4)
    summary = evaluate_links(links, truth, baseline=baseline)
    assert summary["correct_where_baseline_ambiguous"] == 2
    mask = pd.Series([True, True, False, False])
    assert evaluate_links(links, truth, mask, baseline)["correct_where_baseline_ambiguous"] == 1
    table = error_breakdown(links, truth)
    assert table.loc["dob_digit", "recall"] == 0.0
    assert table.loc["none", "correct"] == 1


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory):
    from dagster_project.delivery.manifest import verify_delivery
    from dagster_project.delivery.raw import read_extract
    from dagster_project.delivery.reference import REFERENCE_TABLES, load_reference
    from dagster_project.staging import stage_delivery
    from dagster_project.synth import SynthConfig, generate_delivery, truth_dir

    out = tmp_path_factory.mktemp("synth") / "landing"
    config = SynthConfig.for_scale("tiny")
    folder = generate_delivery(config, out=out, seed=7)
    delivery = verify_delivery(folder)
    raws = {name: read_extract(delivery, name)[0] for name in delivery.files}
    staged, _ = stage_delivery(raws, {n: load_reference(n) for n in REFERENCE_TABLES})
    return staged, truth_dir(out, config.extract_date)


def test_nta_rule_on_a_tiny_world(tiny_world):
    staged, truth_folder = tiny_world
    episodes = staged["ndtms_episodes.csv"]
    clients = client_identities(episodes)
    variants = pnc_identity_variants(staged["pnc_nominals.csv"], staged["pnc_aliases.csv"])
    links = nta_links(clients, variants)
    truth = client_truth(truth_folder, clients)
    assert truth["persons"].map(len).gt(0).all()  # every client is somebody
    summary = evaluate_links(links, truth)
    assert summary["clients"] == len(clients)
    assert 0 < summary["correct"] <= summary["matched"]
    mask = adult_starters(episodes, clients, "2006-07", Settings())
    assert 0 < mask.sum() < len(clients)
    assert evaluate_links(links, truth, mask)["clients"] == mask.sum()


def test_probabilistic_rule_on_a_tiny_world(tiny_world):
    from dagster_project.linkage import probabilistic_links

    staged, truth_folder = tiny_world
    clients = client_identities(staged["ndtms_episodes.csv"])
    variants = pnc_identity_variants(staged["pnc_nominals.csv"], staged["pnc_aliases.csv"])
    links, _ = probabilistic_links(
        clients, variants, staged["pnc_offences.csv"], Settings(), seed=1)
    truth = client_truth(truth_folder, clients)
    nta = evaluate_links(nta_links(clients, variants), truth)
    summary = evaluate_links(links, truth)
    assert not links["pncid"].dropna().duplicated().any()
    # two birthdays a year: the attributor collides everywhere, the model still does better
    assert summary["correct"] > nta["correct"]
    assert summary["precision"] > nta["precision"]


def test_calibration_table_counts_pairs_and_persons():
    from dagster_project.linkage.evaluation import calibration_table

    truth = pd.DataFrame({
        "true_pncids": [frozenset({"A1", "A2"}), frozenset()],
        "persons": [frozenset({7}), frozenset()],
    })
    # client 0's person has two unconsolidated records (A1, A2), each scored 0.5; client 1
    # has no record and one stranger at 0.1
    pairs = pd.DataFrame({"client": [0, 0, 1], "pncid": ["A1", "A2", "B"],
                          "match_probability": [0.5, 0.5, 0.1]})
    by_record = calibration_table(pairs, truth).set_index("band")
    assert by_record.loc["[0.5, 0.8)", "pairs"] == 2
    assert by_record.loc["[0.5, 0.8)", "share_correct"] == 1.0
    assert by_record.loc["[0.05, 0.2)", "share_correct"] == 0.0
    persons = pd.Series([7, 7, 9], index=["A1", "A2", "B"])
    by_person = calibration_table(pairs, truth, persons=persons).set_index("band")
    assert by_person.loc["[0.999, 1.0)", "pairs"] == 1  # one person, 0.5 + 0.5
    assert by_person.loc["[0.999, 1.0)", "share_correct"] == 1.0
    assert by_person["pairs"].sum() == 2


def test_exact_stranger_share_counts_clients_without_record_that_a_stranger_mirrors(tmp_path):
    from dagster_project.linkage.evaluation import exact_stranger_share

    clients, truth = _crafted(tmp_path)
    clients["linkable"] = True
    # client 2 has no record; a stranger carries its attributor exactly, another one nearly
    stranger = pd.DataFrame([ATTRIBUTORS[2], ("E", "F", "1982-03-05", "1"), ATTRIBUTORS[0]],
                            columns=["finitial", "sinitial", "dob", "sex"])
    stranger["dob"] = pd.to_datetime(stranger["dob"])
    assert exact_stranger_share(clients, stranger, truth) == 1.0
    assert exact_stranger_share(clients, stranger.iloc[1:], truth) == 0.0
    # outside the mask, or not linkable, the client is not counted
    mask = pd.Series([True, True, False, True])
    assert exact_stranger_share(clients, stranger, truth, mask) == 0.0


def test_no_record_absent_share_apart_for_clients_a_stranger_mirrors(tmp_path):
    from dagster_project.linkage.evaluation import no_record_absent_by_stranger

    clients, truth = _crafted(tmp_path)
    clients["linkable"] = True
    truth.loc[0, "true_pncids"] = frozenset()  # clients 0 and 2 without record
    # a stranger mirrors client 2 exactly; client 0 has only a near one
    stranger = pd.DataFrame([ATTRIBUTORS[2], ("A", "B", "1980-01-03", "1")],
                            columns=["finitial", "sinitial", "dob", "sex"])
    stranger["dob"] = pd.to_datetime(stranger["dob"])
    links = _links(["absent", "matched", "ambiguous", "ambiguous"], [None, "P1", None, None])
    split = no_record_absent_by_stranger(links, clients, stranger, truth)
    assert split["exact_stranger_share"] == 0.5
    assert split["absent_exact_strangers"] == 0.0
    assert split["absent_others"] == 1.0
    assert split["ceiling_at_this_exact_stranger_rate"] == 0.5
