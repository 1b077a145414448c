"""ndtms_episodes.csv: the episodes as agencies record them.

Each agency keeps its own record of a client (CLIENTID) and types the attributor in
itself, so identity errors belong to a (client, agency) record: the same person may be
two NDTMS clients when one agency slipped.

Exports `draw_drugs`, `episodes_table`, `RECORDING_ERRORS`.
"""

import numpy as np
import pandas as pd
import pyarrow as pa

from ..delivery.reference import load_reference
from .columns import (
    NO_DAY,
    code_column,
    concat_text,
    date_column,
    date_parts,
    draw,
    int_column,
    padded,
    unrecorded,
    year_start,
)
from .config import SynthConfig
from .geography import Geography
from .people import ETHNIC_NDTMS, LETTERS, People, draw_from, name_pools, slip_dob
from .treatment import discharge_codes

RECORDING_ERRORS = (
    "none",
    "dob_day_month_swap",
    "dob_digit",
    "dob_year_slip",
    "wrong_finitial",
    "wrong_sinitial",
    "missing_initial",
    "sex_not_stated",
    "dob_day_transposed",
    "dob_year_transposed",
    "placeholder_dob",
    "second_forename_first",
    "married_surname",
)
_DRUGS = load_reference("drug_codes")["code"].tolist()
_SECONDARY = {"5000": 0.4, "7000": 0.25, "2200": 0.15, "3200": 0.12, "3100": 0.08}
_PRIMARY = {
    "opiate_only": {"1011": 0.85, "1105": 0.06, "1000": 0.05, "1106": 0.04},
    "other": {
        "5000": 0.35,
        "3200": 0.25,
        "3100": 0.15,
        "2200": 0.06,
        "3406": 0.05,
        "7000": 0.06,
        "4000": 0.01,
        "6000": 0.01,
        "8799": 0.02,
        "9005": 0.02,
        "2100": 0.01,
        "8200": 0.005,
        "8300": 0.005,
    },
}
_REFERRALS = {
    "criminal_justice": {"5": 0.55, "6": 0.2, "8": 0.15, "13": 0.1},
    "self": {"4": 0.85, "24": 0.1, "25": 0.05},
    "other": {
        "1": 0.2,
        "2": 0.15,
        "3": 0.35,
        "9": 0.03,
        "10": 0.03,
        "11": 0.05,
        "12": 0.04,
        "14": 0.01,
        "15": 0.05,
        "16": 0.01,
        "19": 0.04,
        "21": 0.01,
        "22": 0.02,
        "23": 0.01,
    },
}
_RFLS = sorted({c for route in _REFERRALS.values() for c in route}, key=int)
_MODAL_OPIATE = np.array([3, 3, 40, 12, 12, 5, 8, 4, 4, 3, 3, 3]) / 100
_MODAL_OTHER = np.array([2, 4, 3, 2, 40, 12, 15, 6, 5, 4, 4, 3]) / 100


def _pick(rng, shares: dict, n: int) -> np.ndarray:
    """Drug code indices drawn from code -> share."""
    return np.array([_DRUGS.index(c) for c in shares])[draw(rng, shares, n)]


def draw_drugs(rng, drug_group: np.ndarray) -> dict:
    """DRUG1-3 (indices into the drug codes, -1 none) and injecting status per person."""
    n = len(drug_group)
    heroin, crack = _DRUGS.index("1011"), _DRUGS.index("3201")
    d1 = np.where(
        drug_group == 3, _pick(rng, _PRIMARY["other"], n), _pick(rng, _PRIMARY["opiate_only"], n)
    )
    d1[drug_group == 2] = crack
    d2 = np.where(
        rng.random(n) < np.array([0, 0.5, 0.45, 0.4])[drug_group], _pick(rng, _SECONDARY, n), -1
    )
    both = drug_group == 0
    crack_first = both & (rng.random(n) < 0.15)
    d1[both] = np.where(crack_first[both], crack, heroin)
    d2[both] = np.where(crack_first[both], heroin, crack)
    d3 = np.where(
        (d2 >= 0) & (rng.random(n) < np.array([0.35, 0.4, 0.3, 0.35])[drug_group]),
        _pick(rng, _SECONDARY, n),
        -1,
    )
    d2 = np.where(d2 == d1, -1, d2)
    d3 = np.where((d3 == d1) | (d3 == d2), -1, d3)
    opiate = drug_group <= 1
    injstat = np.where(
        opiate,
        draw(rng, {"P": 0.3, "C": 0.35, "N": 0.3, "Z": 0.05}, n),
        draw(rng, {"P": 0.05, "C": 0.02, "N": 0.88, "Z": 0.05}, n),
    )
    return {"drug1": d1, "drug2": d2, "drug3": d3, "injstat": injstat}


def _plant_unseen_kinds(rng, error, person, people: People, fi, si, dob, config) -> None:
    """The errors `default` never plants (profiles.py), in place. A kind that cannot
    apply to a record (no second forename; a man for a married name) leaves it 'none'.
    Nothing is drawn when none is planted: the default world stays as it was."""
    rows = np.flatnonzero(error == "placeholder_dob")
    dob[rows] = year_start(date_parts(dob[rows])[0])
    second = people.names["forename2"][person]
    rows = error == "second_forename_first"
    if rows.any():
        male = people.male[person]
        pools = name_pools()
        for sex, is_sex in (("male", male), ("female", ~male)):
            take = rows & is_sex & (second >= 0)
            fi[take] = pools[sex].letter[second[take]]
        error[rows & (second < 0)] = "none"
    rows = error == "married_surname"
    if rows.any():
        error[rows & people.male[person]] = "none"
        take = np.flatnonzero(error == "married_surname")
        new, _ = draw_from(rng, name_pools()["surname"], len(take), config.initial_skew)
        si[take] = new


def _identities(rng, person, agency, people: People, config: SynthConfig) -> pd.DataFrame:
    """One record per (agency, person): CLIENTID and the attributor as typed there."""
    ids = pd.DataFrame({"agency": agency, "person": person}).drop_duplicates(ignore_index=True)
    ids["clientid"] = ids.groupby("agency").cumcount() + 1
    n, p = len(ids), ids["person"].to_numpy()
    shares = {
        "none": 1 - sum(config.recording_error_shares.values()),
        **config.recording_error_shares,
    }
    error = np.asarray(list(shares))[draw(rng, shares, n)]
    fi, si = people.names["finitial"][p].copy(), people.names["sinitial"][p].copy()
    dob, sex = people.dob[p].copy(), np.where(people.male[p], 1, 2)
    slips = ("dob_day_month_swap", "dob_digit", "dob_year_slip", "dob_day_transposed",
             "dob_year_transposed")
    for k, kind in enumerate(slips):
        rows = error == kind
        dob[rows] = slip_dob(rng, dob[rows], np.full(rows.sum(), k))
    for kind, letters in (("wrong_finitial", fi), ("wrong_sinitial", si)):
        rows = error == kind
        letters[rows] = (letters[rows] + rng.integers(1, 26, rows.sum())) % 26
    _plant_unseen_kinds(rng, error, p, people, fi, si, dob, config)
    missing = error == "missing_initial"
    which = rng.random(n) < 0.5
    fi[missing & which], si[missing & ~which] = -1, -1
    sex[error == "sex_not_stated"] = 9
    lower = rng.random(n) < config.lower_case_share  # valid: initials are any case
    ids["finitial"] = np.where(fi < 0, -1, fi + 26 * lower)
    ids["sinitial"] = np.where(si < 0, -1, si + 26 * lower)
    ids["dob"], ids["sex"], ids["error"] = dob, sex, error
    return ids


def episodes_table(
    rng,
    episodes: pd.DataFrame,
    journey_route: np.ndarray,
    drugs: dict,
    people: People,
    config: SynthConfig,
    geography: Geography,
):
    """The episode rows in (agency, triage) order; returns the table, the identity records
    (truth) and the rows' day columns (for planting invalid rows)."""
    ep = episodes.sort_values(["agency", "triaged"], kind="stable", ignore_index=True)
    n = len(ep)
    person, agency = ep["person"].to_numpy(), ep["agency"].to_numpy()
    ids = _identities(rng, person, agency, people, config)
    rec = pd.MultiIndex.from_frame(ids[["agency", "person"]]).get_indexer(
        pd.MultiIndex.from_arrays([agency, person])
    )
    triaged, disd = ep["triaged"].to_numpy(), ep["disd"].to_numpy()
    area = people.area_at(person, triaged)
    routes = list(_REFERRALS)
    route = journey_route[ep["journey_id"].to_numpy()]
    rfls = np.full(n, -1)
    for r, name in enumerate(routes):
        rows = np.flatnonzero(route == r)
        rfls[rows] = np.array([_RFLS.index(c) for c in _REFERRALS[name]])[
            draw(rng, _REFERRALS[name], len(rows))
        ]
    later = ~ep["first"].to_numpy()  # transfers and second agencies: drug services, GPs
    rfls[later] = rng.choice(
        [_RFLS.index("1"), _RFLS.index("2"), _RFLS.index("3")],
        size=int(later.sum()),
        p=[0.45, 0.45, 0.1],
    )
    refld = triaged - rng.exponential(config.referral_lag_mean_days, n).astype(np.int64)
    d = {k: v[person] for k, v in drugs.items()}
    opiate = np.isin(np.asarray(_DRUGS)[d["drug1"]], ["1000", "1011", "1105", "1106"])
    modal = (
        np.where(opiate, rng.choice(12, n, p=_MODAL_OPIATE), rng.choice(12, n, p=_MODAL_OTHER)) + 1
    )
    open_ = disd == NO_DAY
    no_modal = rng.random(n) < config.no_modality_share
    modst = triaged + rng.integers(0, 29, n)
    modst = np.where(open_, modst, np.minimum(modst, disd))
    modend = np.where(open_, NO_DAY, np.maximum(disd - rng.integers(0, 15, n), modst))
    disrsn = discharge_codes(rng, ep["exit_group"].to_numpy(), disd, config)
    letters = np.r_[LETTERS, np.char.lower(LETTERS)]
    episodid = rng.integers(1, 9) * 100_000 + ep.groupby("agency").cumcount().to_numpy() + 1
    clientid = ids["clientid"].to_numpy()[rec]
    # agencies' own formats of a client reference: plain numbers or a prefixed code
    clientid_text = pa.array(np.where(agency % 3 == 0, "C", ""), pa.string())
    table = pa.table(
        {
            "AGNCY": code_column(agency, geography.agency_codes),
            "CLIENTID": concat_text(clientid_text, padded(clientid, 6)),
            "EPISODID": pa.array(episodid).cast(pa.string()),
            "FINITIAL": code_column(ids["finitial"].to_numpy()[rec], letters),
            "SINITIAL": code_column(ids["sinitial"].to_numpy()[rec], letters),
            "DOB": date_column(ids["dob"].to_numpy()[rec], "dmy"),
            "SEX": pa.array(ids["sex"].to_numpy()[rec]).cast(pa.string()),
            "PC": code_column(unrecorded(rng, area, config.postcode_missing_share),
                              geography.outward_codes),
            "DAT": code_column(geography.district_dat[area], geography.dat_codes),
            "ETHNIC": code_column(
                unrecorded(rng, people.ethnic[person], config.ethnicity_missing_share),
                ETHNIC_NDTMS),
            "REFLD": date_column(refld, "dmy"),
            "RFLS": code_column(rfls, _RFLS),
            "TRIAGED": date_column(triaged, "dmy"),
            "DRUG1": code_column(d["drug1"], _DRUGS),
            "DRUG2": code_column(d["drug2"], _DRUGS),
            "DRUG3": code_column(d["drug3"], _DRUGS),
            "INJSTAT": code_column(d["injstat"], ["P", "C", "N", "Z"]),
            "MODAL": int_column(modal, missing=no_modal),
            "MODST": date_column(np.where(no_modal, NO_DAY, modst), "dmy"),
            "MODEND": date_column(np.where(no_modal, NO_DAY, modend), "dmy"),
            "DISD": date_column(disd, "dmy"),
            "DISRSN": pa.array(disrsn, pa.string()),
        }
    )
    # the identity records as truth: readable codes
    letter_or_empty = np.r_[letters, [""]]
    ids["AGNCY"] = geography.agency_codes[ids["agency"].to_numpy()]
    ids["CLIENTID"] = np.where(ids["agency"] % 3 == 0, "C", "") + ids["clientid"].astype(
        str
    ).str.zfill(6)
    ids["FINITIAL"] = letter_or_empty[ids["finitial"].to_numpy()]
    ids["SINITIAL"] = letter_or_empty[ids["sinitial"].to_numpy()]
    ids = ids.drop(columns=["agency", "clientid", "finitial", "sinitial"])
    return (
        table,
        ids,
        {"triaged": triaged, "disd": disd, "dob": ids["dob"].to_numpy()[rec], "person": person},
    )
