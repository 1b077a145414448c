"""Quality of a linkage rule against the synthetic generator's truth.

Exports `client_truth`, `evaluate_links`, `error_breakdown`, `calibration_table`,
`record_persons`, `adult_starters`, `exact_stranger_share`, `no_record_absent_by_stranger`.

The generator writes, beside each delivery (`truth/<extract date>/`), who each NDTMS
identity record really is (`client_records.parquet`: the attributor as the agency typed
it, `person_id` and the identity `error` planted) and which PNC records belong to whom
(`pnc_records.parquet`: `PNCID`, `person_id`). A client (one attributor) is usually one
person; two persons who share an attributor are one client, which either of their PNC
records may rightly match.

Definitions (per client):
- has a record: some person behind the client has a PNC record;
- correct: `matched` to a record of a person behind the client;
- precision = correct / matched; recall = correct / clients with a record;
- false link of a client without record: `matched` while no person behind it has one.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from dagster_project.cohort.journeys import treatment_journeys
from dagster_project.linkage.handover import age_in_completed_years
from dagster_project.linkage.identities import ATTRIBUTOR
from dagster_project.settings import Settings
from dagster_project.vocabulary.link_status import ABSENT, AMBIGUOUS, MATCHED


def client_truth(truth_dir: Path | str, clients: pd.DataFrame) -> pd.DataFrame:
    """Per client (index of `clients`): `persons` (frozenset of person ids), `true_pncids`
    (frozenset of their PNC records) and `error` (the identity error planted on the
    client's records: 'none', a kind, or several joined by '+')."""
    folder = Path(truth_dir)
    records = pd.read_parquet(folder / "client_records.parquet")
    records = pd.DataFrame({
        "finitial": records["FINITIAL"].str.upper().replace("", pd.NA),
        "sinitial": records["SINITIAL"].str.upper().replace("", pd.NA),
        "dob": pd.to_datetime(records["DOB"]),
        "sex": records["SEX"].astype("str"),
        "person_id": records["person_id"],
        "error": records["error"],
    }).astype({"finitial": "str", "sinitial": "str"})
    pnc = pd.read_parquet(folder / "pnc_records.parquet", columns=["PNCID", "person_id"])
    keyed = clients[ATTRIBUTOR].reset_index(names="_client")
    joined = keyed.merge(records, on=ATTRIBUTOR, how="inner")
    # one set per client from (client, value) pairs: a set per PNC person first would cost
    # a Python object for each of the millions of persons
    persons = joined[["_client", "person_id"]].dropna().drop_duplicates()
    records_of = persons.merge(pnc, on="person_id")[["_client", "PNCID"]].drop_duplicates()
    errors = joined[["_client", "error"]].dropna().drop_duplicates().sort_values(
        ["_client", "error"])
    every = keyed["_client"]
    return pd.DataFrame({
        "persons": _sets(persons, "person_id", every),
        "true_pncids": _sets(records_of, "PNCID", every),
        "error": _per_client(errors, "error", every, "+".join, "none"),
    }, index=clients.index)


def _sets(pairs: pd.DataFrame, column: str, every: pd.Series) -> np.ndarray:
    """Per client of `every`, the frozenset of its `column` values in `pairs` (empty: none)."""
    return _per_client(pairs, column, every, frozenset, frozenset())


def _per_client(pairs: pd.DataFrame, column: str, every: pd.Series, combine, empty
                ) -> np.ndarray:
    """Per client of `every`, `combine` of its `column` values in `pairs` (in their order
    within the client), else `empty`. Cut from one sorted array: a pandas groupby with a
    Python aggregate builds a Series per client (a million nationally, most of a minute)."""
    pairs = pairs.sort_values("_client", kind="stable")
    clients = pairs["_client"].to_numpy()
    starts = np.flatnonzero(np.r_[True, clients[1:] != clients[:-1]]) if len(clients) else []
    groups = np.split(pairs[column].to_numpy(dtype=object), starts[1:])
    out = np.empty(len(every), dtype=object)
    out[:] = [empty] * len(every)
    combined = np.empty(len(starts), dtype=object)
    combined[:] = [combine(group) for group in groups] if len(starts) else []
    out[pd.Index(every).get_indexer(clients[starts])] = combined
    return out


def _outcomes(links: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Per client: status, whether it has a record, whether a match is correct."""
    has_record = truth["true_pncids"].map(len).gt(0)
    matched = links["link_status"].eq(MATCHED)
    true_pairs = truth["true_pncids"].map(list).explode().dropna()
    true_pairs = pd.MultiIndex.from_arrays([true_pairs.index, true_pairs.astype("str")])
    linked = pd.MultiIndex.from_arrays([links.index, links["pncid"].astype("str")])
    correct = pd.Series(matched.to_numpy() & linked.isin(true_pairs), index=links.index)
    return pd.DataFrame({
        "status": links["link_status"], "has_record": has_record,
        "matched": matched, "correct": correct,
    })


def _summary(outcome: pd.DataFrame) -> dict:
    n = len(outcome)
    matched, correct = int(outcome["matched"].sum()), int(outcome["correct"].sum())
    with_record = int(outcome["has_record"].sum())
    return {
        "clients": n,
        "matched": matched,
        "correct": correct,
        "precision": correct / matched if matched else float("nan"),
        "recall": correct / with_record if with_record else float("nan"),
        "share_matched": matched / n if n else float("nan"),
        "share_absent": outcome["status"].eq(ABSENT).mean() if n else float("nan"),
        "share_ambiguous": outcome["status"].eq(AMBIGUOUS).mean() if n else float("nan"),
        "false_links_without_record": int((outcome["matched"] & ~outcome["has_record"]).sum()),
        "absent_with_record": int((outcome["status"].eq(ABSENT)
                                   & outcome["has_record"]).sum()),
        "no_record_absent_share": (outcome["status"].eq(ABSENT)[~outcome["has_record"]]
                                   .mean() if (~outcome["has_record"]).any() else float("nan")),
    }


def evaluate_links(
    links: pd.DataFrame,
    truth: pd.DataFrame,
    mask: pd.Series | None = None,
    baseline: pd.DataFrame | None = None,
) -> dict:
    """Quality of one rule's `links` (one row per client, as `nta_links` returns) against
    `client_truth`, over the clients in `mask` (all when None). With `baseline` (another
    rule's links, e.g. the NTA rule's), also how many clients that rule leaves ambiguous
    this one links correctly."""
    if mask is not None:
        links, truth = links[mask], truth[mask]
        baseline = baseline[mask] if baseline is not None else None
    outcome = _outcomes(links, truth)
    summary = _summary(outcome)
    if baseline is not None:
        left_ambiguous = baseline["link_status"].eq(AMBIGUOUS)
        summary["correct_where_baseline_ambiguous"] = int(
            (outcome["correct"] & left_ambiguous).sum())
    return summary


def error_breakdown(links: pd.DataFrame, truth: pd.DataFrame,
                    mask: pd.Series | None = None) -> pd.DataFrame:
    """`evaluate_links` per kind of identity error planted on the client's records."""
    if mask is not None:
        links, truth = links[mask], truth[mask]
    outcome = _outcomes(links, truth)
    rows = {kind: _summary(group) for kind, group in outcome.groupby(truth["error"])}
    return pd.DataFrame.from_dict(rows, orient="index")[
        ["clients", "matched", "correct", "precision", "recall", "share_ambiguous",
         "false_links_without_record"]]


# score bands of the reliability table: the floor and the thresholds of METHOD.md §7 inside
CALIBRATION_BANDS = [0.05, 0.2, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 1.0]


def record_persons(truth_dir: Path | str) -> pd.Series:
    """The synthetic person behind each PNC record (index PNCID)."""
    records = pd.read_parquet(Path(truth_dir) / "pnc_records.parquet",
                              columns=["PNCID", "person_id"])
    return records.set_index(records["PNCID"].astype("str"))["person_id"]


def calibration_table(pairs: pd.DataFrame, truth: pd.DataFrame,
                      mask: pd.Series | None = None,
                      persons: pd.Series | None = None) -> pd.DataFrame:
    """Reliability of match probabilities: per score band, the scored pairs (`client` row
    position, `pncid`, `match_probability`), their mean probability and the share that
    are true (the PNC record is one of the client's). Calibrated: the two agree.

    With `persons` (`record_persons`), pairs are counted per (client, person): a person
    with two unconsolidated PNC records is one candidate whose probability is the sum of
    its records' (each near 0.5 when the records are alike, and both true)."""
    if mask is not None:
        pairs = pairs[mask.to_numpy()[pairs["client"].to_numpy()]]
    if persons is None:
        truths, keys = truth["true_pncids"], pairs["pncid"].astype("str")
    else:
        pairs = pairs.assign(pncid=persons.reindex(pairs["pncid"].astype("str")).to_numpy())
        pairs = pairs.groupby(["client", "pncid"], as_index=False)["match_probability"].sum()
        pairs["match_probability"] = pairs["match_probability"].clip(upper=1.0)
        truths, keys = truth["persons"], pairs["pncid"]
    true_pairs = truths.reset_index(drop=True).map(list).explode().dropna()
    true_pairs = pd.MultiIndex.from_arrays([true_pairs.index, true_pairs.astype("str")])
    correct = pd.MultiIndex.from_arrays(
        [pairs["client"].to_numpy(), keys.astype("str").to_numpy()]).isin(true_pairs)
    # bands are closed on the left; a probability of exactly 1 belongs to the last one
    band = pd.cut(pairs["match_probability"].clip(upper=np.nextafter(1.0, 0.0)),
                  CALIBRATION_BANDS, right=False)
    table = pd.DataFrame({"band": band, "p": pairs["match_probability"].to_numpy(),
                          "correct": correct}).groupby("band", observed=False).agg(
        pairs=("p", "size"), mean_predicted=("p", "mean"), share_correct=("correct", "mean"))
    table["gap"] = table["share_correct"] - table["mean_predicted"]
    return table.reset_index().astype({"band": "str"})


def exact_stranger_share(clients: pd.DataFrame, variants: pd.DataFrame, truth: pd.DataFrame,
                         mask: pd.Series | None = None) -> float:
    """Among linkable clients with no PNC record (in `mask`), the share whose whole
    attributor (initials, date of birth, sex) some PNC identity carries: strangers that
    only area, ethnicity and offending can tell apart. Calibrated probabilities cannot
    leave those clients `absent` when that evidence is weak, so this share bounds how many
    clients without a record any rule leaves absent (the NTA rule leaves none of them)."""
    no_record = truth["true_pncids"].map(len).eq(0) & clients["linkable"].astype(bool)
    if mask is not None:
        no_record &= mask
    attributor = variants[ATTRIBUTOR].drop_duplicates()
    hit = clients.loc[no_record, ATTRIBUTOR].reset_index().merge(attributor, on=ATTRIBUTOR)
    return hit.iloc[:, 0].nunique() / max(int(no_record.sum()), 1)


def _exact_strangers(clients: pd.DataFrame, variants: pd.DataFrame, truth: pd.DataFrame,
                     mask: pd.Series | None) -> tuple[pd.Series, pd.Series]:
    """Masks over `clients`: linkable clients with no PNC record (in `mask`), and those of
    them whose whole attributor some PNC identity carries."""
    no_record = truth["true_pncids"].map(len).eq(0) & clients["linkable"].astype(bool)
    if mask is not None:
        no_record &= mask
    attributor = variants[ATTRIBUTOR].drop_duplicates().assign(_hit=True)
    hit = clients[ATTRIBUTOR].merge(attributor, on=ATTRIBUTOR, how="left")["_hit"]
    return no_record, no_record & hit.fillna(False).astype(bool).set_axis(clients.index)


def no_record_absent_by_stranger(links: pd.DataFrame, clients: pd.DataFrame,
                                 variants: pd.DataFrame, truth: pd.DataFrame,
                                 mask: pd.Series | None = None) -> dict:
    """The share of no-record clients left `absent`, apart for those whose whole attributor
    a PNC identity carries (`exact_stranger`) and the others: the first is what area,
    ethnicity and offending alone achieve, and bounds the whole share (with the second at
    100%, the share can reach no more than `ceiling`)."""
    no_record, exact = _exact_strangers(clients, variants, truth, mask)
    absent = links["link_status"].eq(ABSENT)
    others = no_record & ~exact
    share_exact = exact.sum() / max(int(no_record.sum()), 1)
    absent_exact = absent[exact].mean() if exact.any() else float("nan")
    return {
        "exact_stranger_share": float(share_exact),
        "absent_exact_strangers": float(absent_exact),
        "absent_others": float(absent[others].mean()) if others.any() else float("nan"),
        "ceiling_at_this_exact_stranger_rate": float(1 - share_exact
                                                     + share_exact * absent_exact),
    }


def adult_starters(staged_episodes: pd.DataFrame, clients: pd.DataFrame,
                   cohort_year: str, settings: Settings) -> pd.Series:
    """Mask over `clients`: adults (on the index date) with a journey starting in the
    cohort year `Y-YY`, by the project's own journey chaining (METHOD.md §1)."""
    year = int(cohort_year[:4])
    first_day, last_day = pd.Timestamp(year, 4, 1), pd.Timestamp(year + 1, 3, 31)
    key = clients[ATTRIBUTOR].reset_index(drop=True).assign(person_key=range(len(clients)))
    episodes = staged_episodes.assign(dob=pd.to_datetime(staged_episodes["dob"]))
    episodes = episodes.merge(key, on=ATTRIBUTOR, how="inner")
    episodes["age_at_triage"] = age_in_completed_years(episodes["dob"], episodes["triaged"])
    journeys = treatment_journeys(episodes, settings)
    in_year = journeys[journeys["start"].between(first_day, last_day)]
    first = in_year.sort_values(["person_key", "start"]).drop_duplicates("person_key")
    adults = first.loc[first["age_at_start"].ge(settings.adult_age), "person_key"]
    mask = pd.Series(False, index=range(len(clients)))
    mask[adults.to_numpy()] = True
    return mask.set_axis(clients.index)
