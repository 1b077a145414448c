"""A synthetic geography: postcode outward codes grouped into 43 police forces and
drug action teams (DATs), each DAT with a few treatment agencies.

The postcode areas are the real ones of each force's territory (roughly), so that codes
look like `M14`, `LS6`, `B23`, `NG7`; forces are numbered `01`-`43` in the order below.
Weights are rough relative populations, not census figures.

Exports `Geography` and `build_geography`.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# force -> [(postcode area, districts, relative population per district)]
FORCE_AREAS = [
    (
        "Metropolitan",
        [
            ("E", 20, 3),
            ("N", 22, 3),
            ("NW", 11, 3),
            ("SE", 28, 3),
            ("SW", 20, 3),
            ("W", 14, 3),
            ("EN", 11, 1),
            ("HA", 9, 1),
            ("IG", 11, 1),
            ("RM", 20, 1),
            ("UB", 11, 1),
            ("BR", 8, 1),
            ("CR", 9, 1),
            ("SM", 7, 1),
        ],
    ),
    ("Cumbria", [("CA", 28, 1)]),
    ("Lancashire", [("PR", 26, 1), ("BB", 18, 1), ("FY", 8, 1), ("LA", 23, 1)]),
    ("Merseyside", [("L", 40, 2)]),
    (
        "Greater Manchester",
        [("M", 35, 2), ("BL", 9, 1), ("OL", 16, 1), ("SK", 23, 1), ("WN", 8, 1)],
    ),
    ("Cheshire", [("CW", 12, 1), ("WA", 16, 1), ("CH", 8, 1)]),
    ("Northumbria", [("NE", 40, 2), ("SR", 8, 2)]),
    ("Durham", [("DH", 9, 1), ("DL", 17, 1)]),
    ("North Yorkshire", [("YO", 26, 1), ("HG", 5, 1)]),
    ("West Yorkshire", [("LS", 29, 2), ("BD", 24, 2), ("HD", 9, 1), ("HX", 7, 1), ("WF", 17, 1)]),
    ("South Yorkshire", [("S", 36, 2), ("DN", 22, 1)]),
    ("Humberside", [("HU", 20, 2)]),
    ("Cleveland", [("TS", 29, 2)]),
    ("West Midlands", [("B", 50, 3), ("WV", 16, 2), ("WS", 15, 1), ("DY", 14, 1)]),
    ("Staffordshire", [("ST", 21, 1)]),
    ("West Mercia", [("WR", 15, 1), ("HR", 9, 1), ("TF", 13, 1)]),
    ("Warwickshire", [("CV", 37, 1)]),
    ("Derbyshire", [("DE", 75, 1)]),
    ("Nottinghamshire", [("NG", 34, 2)]),
    ("Lincolnshire", [("LN", 13, 1)]),
    ("Leicestershire", [("LE", 19, 2)]),
    ("Northamptonshire", [("NN", 18, 1)]),
    ("Cambridgeshire", [("CB", 25, 1), ("PE", 38, 1)]),
    ("Norfolk", [("NR", 35, 1)]),
    ("Suffolk", [("IP", 33, 1)]),
    ("Bedfordshire", [("LU", 7, 2), ("MK", 46, 1)]),
    ("Hertfordshire", [("AL", 10, 1), ("SG", 19, 1), ("WD", 25, 1), ("HP", 27, 1)]),
    ("Essex", [("CM", 24, 1), ("CO", 16, 1), ("SS", 17, 1)]),
    ("Thames Valley", [("OX", 29, 1), ("RG", 45, 1), ("SL", 9, 1)]),
    ("Hampshire", [("SO", 53, 1), ("PO", 41, 1)]),
    ("Surrey", [("GU", 52, 1), ("KT", 24, 1), ("RH", 20, 1)]),
    ("Kent", [("CT", 21, 1), ("ME", 20, 1), ("TN", 40, 1), ("DA", 18, 1)]),
    ("Sussex", [("BN", 45, 2)]),
    ("City of London", [("EC", 4, 1)]),
    ("Devon and Cornwall", [("EX", 39, 1), ("PL", 35, 1), ("TQ", 14, 1), ("TR", 27, 1)]),
    ("Avon and Somerset", [("BS", 49, 2), ("BA", 22, 1), ("TA", 24, 1)]),
    ("Gloucestershire", [("GL", 56, 1)]),
    ("Wiltshire", [("SN", 26, 1), ("SP", 11, 1)]),
    ("Dorset", [("BH", 25, 1), ("DT", 11, 1)]),
    ("North Wales", [("LL", 78, 1)]),
    ("Gwent", [("NP", 44, 1)]),
    ("South Wales", [("CF", 83, 1), ("SA", 73, 1)]),
    ("Dyfed-Powys", [("LD", 8, 1), ("SY", 25, 1)]),
]
# Districts of an area are grouped into DATs of this many (a DAT is a local authority).
DISTRICTS_PER_DAT = 12


@dataclass(frozen=True)
class Geography:
    """Outward codes with their force, DAT and weight; agencies with their DAT."""

    outward_codes: np.ndarray  # str, one per district
    district_force: np.ndarray  # int, 0-based force index
    district_dat: np.ndarray  # int, DAT index
    district_weight: np.ndarray  # float, sums to 1
    force_codes: np.ndarray  # str '01'..'43'
    dat_codes: np.ndarray  # str
    agency_codes: np.ndarray  # str
    agency_dat: np.ndarray  # int
    agencies_per_dat: int


@lru_cache(maxsize=4)
def build_geography(agencies_per_dat: int) -> Geography:
    """The fixed geography; agencies are numbered DAT by DAT."""
    codes, forces, dats, weights = [], [], [], []
    n_dats = 0
    for force, (_, areas) in enumerate(FORCE_AREAS):
        for area, n_districts, weight in areas:
            for district in range(1, n_districts + 1):
                codes.append(f"{area}{district}")
                forces.append(force)
                dats.append(n_dats + (district - 1) // DISTRICTS_PER_DAT)
                weights.append(weight)
            n_dats += (n_districts - 1) // DISTRICTS_PER_DAT + 1
    weight = np.asarray(weights, dtype=float)
    n_agencies = n_dats * agencies_per_dat
    return Geography(
        outward_codes=np.asarray(codes),
        district_force=np.asarray(forces),
        district_dat=np.asarray(dats),
        district_weight=weight / weight.sum(),
        force_codes=np.asarray([f"{i + 1:02d}" for i in range(len(FORCE_AREAS))]),
        dat_codes=np.asarray([f"D{i + 1:03d}" for i in range(n_dats)]),
        agency_codes=np.asarray([f"N{i + 1:04d}" for i in range(n_agencies)]),
        agency_dat=np.repeat(np.arange(n_dats), agencies_per_dat),
        agencies_per_dat=agencies_per_dat,
    )
