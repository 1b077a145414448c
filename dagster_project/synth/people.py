"""Persons: sex, date of birth, names, ethnicity and where they live.

Everyone in the world (treatment clients and offenders who never enter treatment) is
drawn here, as columns of one `People` table indexed by person id.

Exports `People`, `NamePools`, `name_pools`, `draw_people`, `draw_names`, `slip_dob`,
`ETHNIC_NDTMS`, `ETHNIC_PNC`.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from ..delivery.reference import load_reference
from .columns import NO_DAY, date_parts, draw, from_parts, year_start
from .config import SynthConfig
from .geography import Geography
from .names import FEMALE_FORENAMES, MALE_FORENAMES, SURNAMES

_ethnicity = load_reference("ethnicity_codes")
ETHNIC_NDTMS = _ethnicity["ndtms_code"].to_numpy()
ETHNIC_PNC = _ethnicity["pnc_code"].to_numpy()
ETHNIC_NOT_STATED = int(np.flatnonzero(ETHNIC_NDTMS == "Z")[0])
LETTERS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


@dataclass(frozen=True)
class NamePools:
    """All names in one array each, grouped by initial; `start[l]`, `size[l]` locate the
    pool of letter l (0 = A), `weight[l]` its base frequency and `letter[i]` the initial
    of name i."""

    names: np.ndarray
    start: np.ndarray
    size: np.ndarray
    weight: np.ndarray
    letter: np.ndarray


def _pools(table: dict) -> NamePools:
    names, letters = [], []
    start, size, weight = np.zeros(26, int), np.zeros(26, int), np.zeros(26)
    for letter, (w, pool) in sorted(table.items()):
        i = ord(letter) - ord("A")
        start[i], size[i], weight[i] = len(names), len(pool), w
        names.extend(pool)
        letters.extend([i] * len(pool))
    return NamePools(
        np.asarray(names, dtype=object), start, size, weight / weight.sum(), np.asarray(letters)
    )


@lru_cache(maxsize=1)
def name_pools() -> dict[str, NamePools]:
    """Pools of male and female forenames and of surnames."""
    return {
        "male": _pools(MALE_FORENAMES),
        "female": _pools(FEMALE_FORENAMES),
        "surname": _pools(SURNAMES),
    }


def draw_from(rng, pools: NamePools, n: int, skew: float) -> tuple[np.ndarray, np.ndarray]:
    """(initial letter index, name index) of n names."""
    p = pools.weight**skew
    letter = rng.choice(26, size=n, p=p / p.sum())
    name = pools.start[letter] + (rng.random(n) * pools.size[letter]).astype(np.int64)
    return letter, name


def draw_names(rng, male: np.ndarray, skew: float, second_share: float) -> dict:
    """Forename, second forename (-1 none) and surname indices, with the initials.
    Name indices point into the sex's forename pool and the surname pool."""
    n = len(male)
    pools = name_pools()
    first_letter = np.empty(n, np.int64)
    first = np.empty(n, np.int64)
    second = np.full(n, -1, np.int64)
    has_second = rng.random(n) < second_share
    for sex, is_sex in (("male", male), ("female", ~male)):
        k = int(is_sex.sum())
        first_letter[is_sex], first[is_sex] = draw_from(rng, pools[sex], k, skew)
        _, other = draw_from(rng, pools[sex], k, 1.0)
        second[is_sex] = np.where(has_second[is_sex], other, -1)
    surname_letter, surname = draw_from(rng, pools["surname"], n, skew)
    return {
        "finitial": first_letter,
        "forename": first,
        "forename2": second,
        "sinitial": surname_letter,
        "surname": surname,
    }


def _draw_dob(rng, n: int, mean: float, sd: float, config: SynthConfig) -> np.ndarray:
    year = np.clip(
        np.rint(rng.normal(mean, sd, n)), config.birth_year_min, config.birth_year_max
    ).astype(np.int64)
    k = config.dob_days_per_year
    # evenly spaced birthdays; with k = 365 every day of the year (31 Dec of leap years
    # aside, which costs nothing for linkage)
    day_of_year = (rng.integers(0, k, n) * 365) // k
    return year_start(year) + day_of_year


@dataclass
class People:
    """One row per person; arrays share the person id as index."""

    male: np.ndarray  # bool
    dob: np.ndarray  # day number
    names: dict  # see draw_names
    ethnic: np.ndarray  # index into ETHNIC_NDTMS / ETHNIC_PNC (truth)
    pnc_ethnic: np.ndarray  # as the PNC records it
    area1: np.ndarray  # district index before any move
    area2: np.ndarray  # district index after the move
    move_day: np.ndarray  # day of the move (far future when none)

    def __len__(self) -> int:
        return len(self.male)

    def area_at(self, person: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Home district of each person on each day."""
        return np.where(day >= self.move_day[person], self.area2[person], self.area1[person])


def draw_people(
    rng, n_clients: int, n_others: int, config: SynthConfig, geography: Geography
) -> People:
    """Clients first (ids 0..n_clients-1), then offenders who are never treated."""
    n = n_clients + n_others
    is_client = np.arange(n) < n_clients
    male = rng.random(n) < np.where(is_client, config.client_male_share, config.pnc_male_share)
    dob = np.concatenate(
        [
            _draw_dob(
                rng, n_clients, config.client_birth_year_mean, config.client_birth_year_sd, config
            ),
            _draw_dob(rng, n_others, config.pnc_birth_year_mean, config.pnc_birth_year_sd, config),
        ]
    )
    names = draw_names(rng, male, config.initial_skew, config.second_forename_share)
    ethnic = draw(rng, config.ethnicity_shares, n)
    ethnic = np.asarray(list(config.ethnicity_shares))[ethnic]
    ethnic = pd.Index(ETHNIC_NDTMS).get_indexer(ethnic)
    # The PNC's code is self-defined too but often recorded differently (officer-defined
    # habits, a different answer on a different day), or not stated.
    pnc_ethnic = ethnic.copy()
    differs = rng.random(n) < config.ethnicity_disagreement
    pnc_ethnic[differs] = draw(rng, config.ethnicity_shares, int(differs.sum()))
    pnc_ethnic[rng.random(n) < config.pnc_ethnicity_not_stated] = ETHNIC_NOT_STATED
    areas = geography.district_weight
    area1 = rng.choice(len(areas), size=n, p=areas)
    area2 = rng.choice(len(areas), size=n, p=areas)
    span = config.day("extract_date") - config.day("history_start")
    moves = rng.random(n) < 1 - np.exp(-config.move_rate * span / 365.25)
    move_day = np.where(
        moves, config.day("history_start") + rng.integers(0, span, n), np.iinfo(np.int32).max
    )
    # narrow types: the never-treated pool runs to millions of persons
    return People(
        male,
        dob.astype(np.int32),
        {k: v.astype(np.int32) for k, v in names.items()},
        ethnic.astype(np.int8),
        pnc_ethnic.astype(np.int8),
        area1.astype(np.int32),
        area2.astype(np.int32),
        move_day.astype(np.int32),
    )


def slip_dob(rng, dob: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Dates of birth as a clerk mistypes them. kind 0: day and month swapped (when that
    gives another real date), 1: one digit of the day or year wrong, 2: year off by one,
    3: the day's two digits transposed, 4: the year's last two digits transposed.
    Slips that would not give a real, different date fall back to a year slip."""
    year, month, day = date_parts(dob)
    n = len(dob)
    new_y, new_m, new_d = year.copy(), month.copy(), day.copy()
    swap = kind == 0
    new_m[swap], new_d[swap] = day[swap], month[swap]
    digit = kind == 1
    on_day = digit & (rng.random(n) < 0.5)
    new_d[on_day] = (day[on_day] // 10) * 10 + (
        day[on_day] % 10 + rng.integers(1, 10, n)[on_day]
    ) % 10
    on_year = digit & ~on_day
    new_y[on_year] = (year[on_year] // 10) * 10 + (
        year[on_year] % 10 + rng.integers(1, 10, n)[on_year]
    ) % 10
    slip = kind == 2
    new_y[slip] += rng.choice([-1, 1], n)[slip]
    day_swap = kind == 3
    new_d[day_swap] = (day[day_swap] % 10) * 10 + day[day_swap] // 10
    year_swap = kind == 4
    tens, units = (year[year_swap] // 10) % 10, year[year_swap] % 10
    new_y[year_swap] = (year[year_swap] // 100) * 100 + units * 10 + tens
    out, ok = from_parts(new_y, new_m, new_d)
    fallback = ~ok | (out == dob)
    out[fallback] = from_parts(year[fallback] + 1, month[fallback], np.minimum(day[fallback], 28))[
        0
    ]
    assert not np.any(out == NO_DAY)
    return out
