"""The pseudonym `person_key` (METHOD.md §6)."""

import hashlib
import hmac

import pandas as pd
import pytest

from dagster_project.linkage.pseudonym import person_key


def _keys(finitial, sinitial, dob, sex, key):
    return person_key(
        pd.Series(finitial, dtype="str"),
        pd.Series(sinitial, dtype="str"),
        pd.Series(pd.to_datetime(dob)),
        pd.Series(sex, dtype="str"),
        key,
    )


def test_known_digest():
    expected = hmac.new(b"k", b"J|S|1975-03-02|1", hashlib.sha256).hexdigest()
    assert _keys(["J"], ["S"], ["1975-03-02"], ["1"], "k").tolist() == [expected]


def test_initials_are_upper_cased_and_missing_written_empty():
    keys = _keys(["j", None], ["s", "S"], ["1975-03-02"] * 2, ["1", "1"], "k")
    assert keys[0] == hmac.new(b"k", b"J|S|1975-03-02|1", hashlib.sha256).hexdigest()
    assert keys[1] == hmac.new(b"k", b"|S|1975-03-02|1", hashlib.sha256).hexdigest()


def test_key_is_utf8_bytes_as_given():
    key = " clé "
    expected = hmac.new(key.encode("utf-8"), b"A|B|2000-01-31|2", hashlib.sha256).hexdigest()
    assert _keys(["A"], ["B"], ["2000-01-31"], ["2"], key).tolist() == [expected]


def test_digest_depends_on_key_and_attributor():
    one = _keys(["J", "J"], ["S", "S"], ["1975-03-02", "1975-03-03"], ["1", "1"], "k")
    other = _keys(["J"], ["S"], ["1975-03-02"], ["1"], "k2")
    assert one[0] != one[1]
    assert one[0] != other[0]
    assert one.str.fullmatch(r"[0-9a-f]{64}").all()


@pytest.mark.parametrize("key", [None, ""])
def test_missing_key_is_an_error(key):
    with pytest.raises(ValueError, match="RECONVICTION_PSEUDONYM_KEY"):
        _keys(["J"], ["S"], ["1975-03-02"], ["1"], key)
