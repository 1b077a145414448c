"""The pseudonym that keys persons downstream of linkage (METHOD.md §6).

Exports `person_key`, `pnc_key`, `attributor_text` and `PSEUDONYM_KEY_VARIABLE`.

`person_key` is the lower-case hex HMAC-SHA-256 of the attributor written
`FINITIAL|SINITIAL|YYYY-MM-DD|SEX` (initials upper-cased, e.g. `J|S|1975-03-02|1`),
keyed by the UTF-8 bytes of the secret exactly as given (no stripping).
"""

import hashlib
import hmac

import pandas as pd

PSEUDONYM_KEY_VARIABLE = "RECONVICTION_PSEUDONYM_KEY"


def attributor_text(
    finitial: pd.Series, sinitial: pd.Series, dob: pd.Series, sex: pd.Series
) -> pd.Series:
    """The attributor written `FINITIAL|SINITIAL|YYYY-MM-DD|SEX`.

    A missing initial is written as the empty string (`|S|1975-03-02|1`): METHOD.md keeps
    such clients as clients, so they need a pseudonym too, and no initial can be empty
    otherwise. Date of birth and sex are never missing in staged episodes (rows without
    them are rejected), so a missing one here is an error rather than a guess.
    """
    dates = pd.to_datetime(dob)
    if dates.isna().any() or sex.isna().any():
        raise ValueError("person_key needs a date of birth and a sex for every attributor")
    return (
        _upper_or_empty(finitial) + "|" + _upper_or_empty(sinitial) + "|"
        + dates.dt.strftime("%Y-%m-%d") + "|" + sex.astype("str")
    )


def person_key(
    finitial: pd.Series, sinitial: pd.Series, dob: pd.Series, sex: pd.Series, key: str | None
) -> pd.Series:
    """The pseudonym of each attributor (aligned with the inputs' index)."""
    if not key:
        raise ValueError(
            f"no pseudonym key: set {PSEUDONYM_KEY_VARIABLE} to the project's secret "
            "(it is never stored in code or settings files)"
        )
    secret = key.encode("utf-8")
    texts = attributor_text(finitial, sinitial, dob, sex)
    # one HMAC per distinct attributor: clients repeat across episodes
    digests = {
        text: hmac.new(secret, text.encode("utf-8"), hashlib.sha256).hexdigest()
        for text in texts.unique()
    }
    return texts.map(digests).astype("str").rename("person_key")


def pnc_key(pncids: pd.Series, key: str | None) -> pd.Series:
    """A pseudonym of each PNC person (missing where the PNCID is): the HMAC of `PNC|` and
    the PNCID, so that it can never equal a `person_key`. It lets the sensitivity analysis
    join another rule's links to offences without a PNCID leaving the linkage stage."""
    if not key:
        raise ValueError(f"no pseudonym key: set {PSEUDONYM_KEY_VARIABLE}")
    secret = key.encode("utf-8")
    texts = pncids.astype("str")
    digests = {
        text: hmac.new(secret, f"PNC|{text}".encode(), hashlib.sha256).hexdigest()
        for text in texts.dropna().unique()
    }
    return texts.map(digests).astype("str").rename("pnc_key")


def _upper_or_empty(initials: pd.Series) -> pd.Series:
    return initials.astype("str").str.upper().fillna("")
