"""Initials of names, compared without accents or case (METHOD.md §3).

Exports `initial_of`, `first_forename_initial` and `is_single_letter`.

A name's initial is its first letter after NFKD normalisation, skipping everything that
is not a letter (apostrophes, hyphens, spaces, digits, combining accents), upper-cased;
letters that NFKD leaves alone but that stand for a Latin letter (Ø, Ł, Æ, ...) are
mapped to it. Millions of names are handled by normalising only the few distinct first
characters, and the whole name only where its first character holds no letter.
"""

import unicodedata

import pandas as pd

# Letters without an NFKD decomposition that stand for a Latin letter, as upper-cased by
# Python (`str.upper`: 'ß' -> 'SS', 'ø' -> 'Ø'). `ẞ` is capital sharp s.
_LATIN_EQUIVALENT = {
    "Ø": "O", "Ł": "L", "Æ": "A", "Œ": "O", "ẞ": "S", "Þ": "T", "Đ": "D", "Ð": "D",
    "Ħ": "H", "Ŧ": "T", "Ŋ": "N", "Ƒ": "F",
}

_SINGLE_LETTER = r"[A-Za-z]"


def _initial(text: str) -> str | None:
    """The initial of one string, or None when it holds no letter."""
    for char in unicodedata.normalize("NFKD", text):
        # combining marks are not alphabetic, so skipping non-letters drops them too
        if char.isalpha():
            upper = char.upper()[0]
            return _LATIN_EQUIVALENT.get(upper, upper)
    return None


def _map_unique(values: pd.Series, function) -> pd.Series:
    """`function` of each non-missing value, computed once per distinct value."""
    distinct = values.dropna().unique()
    return values.map({value: function(value) for value in distinct})


def _initials(names: pd.Series, initial_of_whole) -> pd.Series:
    """Initials: from the first character where it decides, else `initial_of_whole`.

    NFKD works character by character (reordering moves only combining marks, never
    letters), so when a name's first character decomposes to something holding a letter,
    that letter is the initial; this needs only the few distinct first characters of
    millions of names. The rest (a leading space, apostrophe, digit...) are rare.
    """
    names = names.astype("str")
    initials = _map_unique(names.str.slice(0, 1), _initial)
    undecided = initials.isna() & names.notna()
    if undecided.any():
        initials[undecided] = _map_unique(names[undecided], initial_of_whole)
    return initials.astype("str")


def initial_of(names: pd.Series) -> pd.Series:
    """Initial of each name (str, missing when the name is missing or has no letter)."""
    return _initials(names, _initial)


def _first_forename_initial(forenames: str) -> str | None:
    words = forenames.split()
    return _initial(words[0]) if words else None


def first_forename_initial(forenames: pd.Series) -> pd.Series:
    """Initial of the first whitespace-separated forename.

    Read literally: when the first forename holds no letter ('123 John') the initial is
    missing, not that of the next forename. A first character that is a letter starts the
    first forename, so the shortcut of `_initials` holds here too.
    """
    return _initials(forenames, _first_forename_initial)


def is_single_letter(initials: pd.Series) -> pd.Series:
    """True where an NDTMS initial is a single letter A-Z (either case); False if missing."""
    return (
        initials.astype("str").str.fullmatch(_SINGLE_LETTER).fillna(False).astype(bool)
    )


def second_forename_initial(forenames: pd.Series) -> pd.Series:
    """Initial of the second whitespace-separated forename (missing when there is none):
    people known by their middle name are often recorded under it elsewhere."""
    second = forenames.astype("str").str.split(n=2).str[1]
    return initial_of(second)
