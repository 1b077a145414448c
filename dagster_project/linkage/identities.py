"""Who is who on each side of the linkage: NDTMS clients and PNC identity variants.

Exports `ATTRIBUTOR`, `client_identities`, `pnc_identity_variants` and `is_linkable`.

Both tables carry the attributor columns under the same names and types (`finitial`,
`sinitial` upper-case text, `dob` datetime64, `sex` '1'/'2'/'9'), so the NTA rule joins
them directly and a probabilistic model can compare them column by column; each also
keeps what it knows about area and ethnicity for that model.
"""

import pandas as pd

from dagster_project.linkage.names import (
    first_forename_initial,
    initial_of,
    is_single_letter,
    second_forename_initial,
)

ATTRIBUTOR = ["finitial", "sinitial", "dob", "sex"]

# NDTMS codes sex 1/2/9, the PNC M/F/U (METHOD.md §3)
PNC_SEX_TO_NDTMS = {"M": "1", "F": "2", "U": "9"}
LINKABLE_SEXES = ("1", "2")
# what a variant carries from its nominal besides the attributor
NOMINAL_ATTRIBUTES = ("pncid", "postcode", "force", "ethnicity")


def is_linkable(finitial: pd.Series, sinitial: pd.Series, sex: pd.Series) -> pd.Series:
    """Whether a client can be linked reliably: sex stated and both initials single letters."""
    return (
        sex.isin(LINKABLE_SEXES) & is_single_letter(finitial) & is_single_letter(sinitial)
    )


def client_identities(staged_episodes: pd.DataFrame) -> pd.DataFrame:
    """One row per NDTMS client (one attributor), sorted by attributor.

    Columns: the attributor, `linkable`, `episodes`, `first_triaged`, `last_triaged`, and
    the most frequent non-missing `pc`, `dat` and `ethnic` (ties go to the value seen on the
    latest triage date, then the alphabetically first). A missing initial is part of the
    attributor: such clients are clients, only not linkable.
    """
    episodes = staged_episodes.assign(
        finitial=staged_episodes["finitial"].astype("str").str.upper(),
        sinitial=staged_episodes["sinitial"].astype("str").str.upper(),
        dob=pd.to_datetime(staged_episodes["dob"]),
        sex=staged_episodes["sex"].astype("str"),
    )
    clients = (
        episodes.groupby(ATTRIBUTOR, dropna=False, sort=True)
        .agg(
            episodes=("triaged", "size"),
            first_triaged=("triaged", "min"),
            last_triaged=("triaged", "max"),
        )
        .reset_index()
    )
    for column in ("pc", "dat", "ethnic"):
        clients = clients.merge(
            _most_frequent(episodes, column), on=ATTRIBUTOR, how="left", validate="1:1"
        )
    clients.insert(
        4, "linkable", is_linkable(clients["finitial"], clients["sinitial"], clients["sex"])
    )
    clients["episodes"] = clients["episodes"].astype("int64")
    return clients


def _most_frequent(episodes: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per attributor, the most frequent non-missing value of `column` (see the tie rule)."""
    if column not in episodes:
        return episodes[ATTRIBUTOR].drop_duplicates().assign(**{column: pd.NA}).astype(
            {column: "str"}
        )
    counts = (
        episodes.dropna(subset=[column])
        .groupby([*ATTRIBUTOR, column], dropna=False)
        .agg(_count=("triaged", "size"), _latest=("triaged", "max"))
        .reset_index()
        .sort_values(
            ["_count", "_latest", column], ascending=[False, False, True], kind="stable"
        )
    )
    return counts.drop_duplicates(ATTRIBUTOR)[[*ATTRIBUTOR, column]]


def pnc_identity_variants(
    staged_nominals: pd.DataFrame, staged_aliases: pd.DataFrame
) -> pd.DataFrame:
    """One row per distinct (PNC person, identity): the nominal and each alias.

    Columns: `pncid`, the attributor (initials of the first forename and the surname, date
    of birth, sex in NDTMS codes), `second_initial` (of the second forename), `source`
    ('nominal' | 'alias') and the nominal's `postcode`, `force`, `ethnicity`. An alias
    takes its sex from its nominal, and its date of birth too when its own is empty.
    Variants repeating an identity of the same person are dropped, the nominal's kept first.
    """
    nominals = staged_nominals.reset_index(drop=True)
    nominals = nominals.assign(
        dob=pd.to_datetime(nominals["dob"]),
        sex=nominals["sex"].astype("str").map(PNC_SEX_TO_NDTMS).astype("str"),
    )
    # Each alias points at its nominal by position: cheaper than merging on the text id
    # at national scale (staging guarantees PNCIDs unique and every alias's nominal).
    alias_nominal = pd.Index(nominals["pncid"]).get_indexer(staged_aliases["pncid"])
    if (alias_nominal < 0).any():
        raise ValueError("pnc aliases refer to PNCIDs that are not among the nominals")
    aliases = staged_aliases.reset_index(drop=True)
    own_dob = pd.to_datetime(aliases["dob"])
    nominal_dob = nominals["dob"].take(alias_nominal).reset_index(drop=True)
    aliases = aliases.assign(
        dob=own_dob.fillna(nominal_dob),
        sex=nominals["sex"].take(alias_nominal).reset_index(drop=True),
        nominal_row=alias_nominal,
    )
    nominals["nominal_row"] = range(len(nominals))
    variants = pd.concat(
        [_variant(nominals, "nominal"), _variant(aliases, "alias")], ignore_index=True
    ).drop_duplicates(["nominal_row", *ATTRIBUTOR], keep="first")
    rows = variants.pop("nominal_row").to_numpy()
    carried = [c for c in NOMINAL_ATTRIBUTES if c in nominals]
    from_nominal = {c: nominals[c].astype("str").take(rows).to_numpy() for c in carried}
    variants = variants.reset_index(drop=True).assign(**from_nominal)
    return variants[["pncid", *ATTRIBUTOR, "second_initial", "source", *carried[1:]]]


def _variant(people: pd.DataFrame, source: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "nominal_row": people["nominal_row"].to_numpy(),
            "finitial": first_forename_initial(people["forenames"]),
            "second_initial": second_forename_initial(people["forenames"]),
            "sinitial": initial_of(people["surname"]),
            "dob": people["dob"],
            "sex": people["sex"],
            "source": source,
        }
    )
