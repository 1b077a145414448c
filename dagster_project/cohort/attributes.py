"""What each cohort member carries, from the start and course of the index journey (METHOD.md §4).

Exports `age_band`, `drug_group`, `retention_days`, `retention_band`, `AGE_BANDS`,
`RETENTION_BANDS`, `DRUG_GROUPS`.
"""

import numpy as np
import pandas as pd

AGE_BANDS = ["18-24", "25-29", "30-34", "35-39", "40-49", "50+"]
_AGE_EDGES = [18, 25, 30, 35, 40, 50]

RETENTION_BANDS = ["<3m", "3-6m", "6-12m", "12-24m", "retained_2y"]
_RETENTION_EDGES = [0, 91, 183, 365]

DRUG_GROUPS = ["opiate_and_crack", "opiate_only", "crack_only", "other"]
CRACK_CODE = "3201"  # powder cocaine (3200) is neither an opiate nor crack


def age_band(age: pd.Series) -> pd.Series:
    """Completed years on the index date → band; ages under 18 (possible only if the adult
    age setting is lowered) are `<18`."""
    values = age.to_numpy(dtype=np.float64, na_value=np.nan)
    position = np.searchsorted(_AGE_EDGES, values, side="right") - 1
    labels = np.array(["<18", *AGE_BANDS], dtype=object)[position + 1]
    return pd.Series(np.where(np.isnan(values), None, labels), index=age.index, dtype="str")


def drug_group(journeys: pd.DataFrame) -> pd.Series:
    """From `DRUG1`–`DRUG3` of the first episode: an opiate is a code of class `opiate`, crack
    is code 3201."""
    opiate = np.zeros(len(journeys), dtype=bool)
    crack = np.zeros(len(journeys), dtype=bool)
    for n in (1, 2, 3):
        opiate |= journeys[f"drug{n}_class"].eq("opiate").fillna(False).to_numpy()
        code = journeys[f"drug{n}"].astype("str").str.strip()
        crack |= code.eq(CRACK_CODE).fillna(False).to_numpy()
    group = np.select(
        [opiate & crack, opiate, crack], DRUG_GROUPS[:3], default=DRUG_GROUPS[3]
    )
    return pd.Series(group, index=journeys.index, dtype="str")


def retention_days(index_day: np.ndarray, end_day: np.ndarray, is_open: np.ndarray,
                   window_days: int) -> np.ndarray:
    """Journey end − index date, capped at the window (730); the window when open."""
    return np.where(is_open, window_days, np.minimum(end_day - index_day, window_days))


def retention_band(days: pd.Series, window_days: int) -> pd.Series:
    """`<3m` (<91 days), `3-6m` (91–182), `6-12m` (183–364), `12-24m` (365 to the window − 1),
    `retained_2y` (the whole window)."""
    values = days.to_numpy(dtype=np.int64)
    position = np.searchsorted(_RETENTION_EDGES, values, side="right") - 1
    bands = np.array(RETENTION_BANDS[:4], dtype=object)[np.clip(position, 0, 3)]
    bands = np.where(values >= window_days, RETENTION_BANDS[4], bands)
    return pd.Series(bands, index=days.index, dtype="str")
