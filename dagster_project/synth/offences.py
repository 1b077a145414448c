"""pnc_offences.csv: the charges of every case, with outcome, sentence and the force
that recorded it, plus the duplicate transmissions a real extract carries.

Exports `offences_table`.
"""

import numpy as np
import pyarrow as pa

from ..delivery.reference import load_reference
from . import columns as col
from .config import SynthConfig
from .geography import Geography
from .offending import DISPOSALS, OUTCOMES
from .people import People
from .pnc import PncRecords, check_letter

_SUFFIXES = {"A": 0.6, "B": 0.2, "C": 0.1, "I": 0.1}
_FRAUD_ACT_CODES = {"FR06001": 0.8, "FR06006": 0.1, "FR06007": 0.1}
_ROW_OUTCOMES = (*OUTCOMES, "P")


def _code_strings() -> tuple[list[str], dict[str, int]]:
    """All codes of the reference, then each with every suffix (index + k * n)."""
    base = load_reference("offence_codes")["code"].tolist()
    codes = base + [c + s for s in _SUFFIXES for c in base]
    return codes, {c: i for i, c in enumerate(base)}


def _draw_codes(rng, mix: dict, day: np.ndarray, index: dict, config) -> np.ndarray:
    """Reference code indices from a mix; 'FRAUD' is TH68014 before the Fraud Act."""
    keys = list(mix)
    drawn = col.draw(rng, mix, len(day))
    code = np.array([index.get(k, -1) for k in keys])[drawn]
    fraud = code == -1
    after = fraud & (day >= config.day("fraud_act_date"))
    code[fraud & ~after] = index["TH68014"]
    fraud_act = np.array([index[c] for c in _FRAUD_ACT_CODES])
    code[after] = fraud_act[col.draw(rng, _FRAUD_ACT_CODES, int(after.sum()))]
    return code


def offences_table(
    rng,
    records: PncRecords,
    cases,
    case_record: np.ndarray,
    people: People,
    is_client: np.ndarray,
    config: SynthConfig,
    geography: Geography,
    truth: dict | None = None,
    asn_issued: np.ndarray | None = None,
) -> tuple[pa.Table, int]:
    """The offence rows, and how many duplicate transmissions were planted. Cases without
    a record (`case_record` -1: taken away by treatment in the counterfactual world) are
    drawn like the others but not written; `truth`, when given, receives every charge
    (written or not) for the truth folder. `asn_issued`, when given, holds the ASN serials
    already issued per two-digit year (by tables written before this one): numbering goes
    on from them, and the array is advanced past this table's."""
    last = config.day("extract_date")
    n_cases = len(cases)
    person = cases["person"].to_numpy()
    day = cases["day"].to_numpy()
    # case level: where it happened, its arrest/summons number
    force = geography.district_force[people.area_at(person, day)]
    away = rng.random(n_cases) < config.offence_away_share
    force[away] = rng.integers(0, len(geography.force_codes), int(away.sum()))
    # ASN: year, force, station, then a serial unique within the year (the case's rank in
    # a random order of the year's cases), so that the ASN identifies the case
    yy = col.date_parts(day)[0] % 100
    serial = np.empty(n_cases, np.int64)
    order = np.lexsort((rng.random(n_cases), yy))
    first = np.searchsorted(yy[order], yy[order], side="left")
    serial[order] = np.arange(n_cases) - first + 1
    issued = np.zeros(100, np.int64) if asn_issued is None else asn_issued
    serial += issued[yy]
    station = rng.integers(1, 21, n_cases)
    # rows: the charges of each case
    n_rows = 1 + rng.poisson(config.extra_offences_per_case, n_cases)
    c = np.repeat(np.arange(n_cases), n_rows)
    seq = np.arange(len(c)) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows) + 1
    # duplicate transmissions: the same charge again under another ASN
    dup = np.flatnonzero(rng.random(len(c)) < config.duplicate_transmission_share)
    row_case = np.r_[c, c[dup]]
    row_seq = np.r_[seq, np.ones(len(dup), np.int64)]
    # each retransmitted charge is a case of its own (one charge, its own number: numbered
    # on from the year's last case, so that an ASN never names two cases)
    dup_yy = yy[c[dup]]
    by_year = np.argsort(dup_yy, kind="stable")
    dup_rank = np.empty(len(dup), np.int64)
    dup_rank[by_year] = np.arange(len(dup)) - np.searchsorted(
        dup_yy[by_year], dup_yy[by_year], side="left"
    )
    row_serial = np.r_[
        serial[c], issued[dup_yy] + np.bincount(yy, minlength=100)[dup_yy] + 1 + dup_rank
    ]
    issued += np.bincount(yy, minlength=100) + np.bincount(dup_yy, minlength=100)
    if issued.max(initial=0) >= 10**7:
        raise ValueError("more cases in a year than seven-digit ASN serials can number")
    source = np.r_[np.arange(len(c)), dup]  # the charge a row transmits
    order = np.argsort(row_case, kind="stable")
    row_case, row_seq, row_serial, source = (
        a[order] for a in (row_case, row_seq, row_serial, source)
    )
    n = len(c)
    # charge level (drawn per charge, so duplicates repeat them)
    # all charges of a case share its date (an earlier date could fall in a custody spell)
    start = day[c]
    codes, index = _code_strings()
    code = np.where(
        is_client[person[c]],
        _draw_codes(rng, config.client_offence_mix, start, index, config),
        _draw_codes(rng, config.other_offence_mix, start, index, config),
    )
    suffixed = rng.random(n) < config.suffix_share
    code[suffixed] += len(index) * (1 + col.draw(rng, _SUFFIXES, int(suffixed.sum())))
    outcome_day = cases["outcome_day"].to_numpy()[c]
    end = start + rng.integers(1, 61, n)
    end = np.where(
        (rng.random(n) < config.offence_end_share) & (np.minimum(end, outcome_day) > start),
        np.minimum(end, outcome_day),
        -1,
    )
    outcome = cases["outcome"].to_numpy()[c]
    convicted = outcome == OUTCOMES.index("C")
    outcome[convicted & (seq > 1) & (rng.random(n) < config.withdrawn_within_conviction_share)] = (
        OUTCOMES.index("W")
    )
    pending = outcome_day > last
    outcome[pending] = _ROW_OUTCOMES.index("P")
    convicted = outcome == OUTCOMES.index("C")
    disposal = np.where(convicted, cases["disposal"].to_numpy()[c], -1)
    custody_days = np.where(
        disposal == DISPOSALS.index("CUS"), cases["custody_days"].to_numpy()[c], -1
    )
    if truth is not None:
        truth["charges"] = {
            "person": person[c], "day": start, "outcome": outcome, "outcome_day": outcome_day,
            "code": np.asarray(codes, dtype=object)[code], "away": case_record[c] < 0,
        }
    written = case_record[row_case] >= 0
    if not written.all():
        row_case, row_seq, row_serial, source = (
            a[written] for a in (row_case, row_seq, row_serial, source)
        )
    asn = col.concat_text(
        col.padded(yy[row_case], 2),
        col.code_column(force[row_case], geography.force_codes),
        col.padded(station[row_case], 2),
        col.padded(row_serial, 7),
        pa.array(check_letter(yy[row_case], row_serial)),
    )
    outcome_on = np.where(pending, col.NO_DAY, outcome_day)
    table = pa.table(
        {
            "PNCID": records.pncid.take(pa.array(case_record[row_case])),
            "ASN": asn,
            "OFFENCE_SEQ": col.int_column(row_seq),
            "CJS_CODE": col.code_column(code[source], codes),
            "OFFENCE_START": col.date_column(start[source], "iso"),
            "OFFENCE_END": col.date_column(np.where(end < 0, col.NO_DAY, end)[source], "iso"),
            "FORCE": col.code_column(force[row_case], geography.force_codes),
            "OUTCOME": col.code_column(outcome[source], _ROW_OUTCOMES),
            "OUTCOME_DATE": col.date_column(outcome_on[source], "iso"),
            "DISPOSAL": col.code_column(disposal[source], DISPOSALS),
            "CUSTODY_DAYS": col.int_column(custody_days[source], missing=custody_days[source] < 0),
        }
    )
    return table, len(dup)
