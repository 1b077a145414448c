"""The NTA rule on crafted cases (METHOD.md §3), from staged tables to link statuses."""

import pandas as pd

from dagster_project.linkage import client_identities, nta_links, pnc_identity_variants


def _episodes(*rows):
    """Staged episodes from (finitial, sinitial, dob, sex[, agncy]) tuples."""
    records = []
    for i, (finitial, sinitial, dob, sex, *agency) in enumerate(rows):
        records.append({
            "agncy": agency[0] if agency else "A1", "clientid": f"C{i}", "episodid": f"E{i}",
            "finitial": finitial, "sinitial": sinitial, "dob": dob, "sex": sex,
            "pc": "M14", "dat": "MAN", "ethnic": "A", "triaged": "2006-05-01",
        })
    frame = pd.DataFrame(records).astype(
        {"finitial": "str", "sinitial": "str", "sex": "str", "pc": "str"}
    )
    return frame.assign(dob=pd.to_datetime(frame["dob"]), triaged=pd.to_datetime(frame["triaged"]))


def _nominals(*rows):
    """Staged nominals from (pncid, surname, forenames, dob, sex) tuples."""
    frame = pd.DataFrame(rows, columns=["pncid", "surname", "forenames", "dob", "sex"])
    return frame.astype("str").assign(
        dob=pd.to_datetime(frame["dob"]), postcode="M14", force="06", ethnicity="W1"
    )


def _aliases(*rows):
    """Staged aliases from (pncid, surname, forenames, dob or None) tuples."""
    frame = pd.DataFrame(rows, columns=["pncid", "surname", "forenames", "dob"])
    return frame.astype({"pncid": "str", "surname": "str", "forenames": "str"}).assign(
        dob=pd.to_datetime(frame["dob"])
    )


def _links(episodes, nominals, aliases=None):
    """{'F|S|dob|sex': (link_status, pncid or None)} for every client."""
    aliases = _aliases() if aliases is None else aliases
    links = nta_links(client_identities(episodes), pnc_identity_variants(nominals, aliases))
    assert (links["method"] == "deterministic").all()
    keys = (
        links["finitial"].fillna("") + "|" + links["sinitial"].fillna("") + "|"
        + links["dob"].dt.strftime("%Y-%m-%d") + "|" + links["sex"]
    )
    pncids = links["pncid"].astype(object).where(links["pncid"].notna(), None)
    return dict(zip(keys, zip(links["link_status"], pncids, strict=True), strict=True))


SMITH = ("P1", "Smith", "John", "1975-03-02", "M")


def test_unique_match_and_absent_client():
    links = _links(
        _episodes(("J", "S", "1975-03-02", "1"), ("A", "B", "1980-01-01", "2")),
        _nominals(SMITH, ("P2", "Brown", "Ann", "1980-01-02", "F")),
    )
    assert links == {
        "J|S|1975-03-02|1": ("matched", "P1"),
        "A|B|1980-01-01|2": ("absent", None),
    }


def test_probabilities():
    episodes = _episodes(("J", "S", "1975-03-02", "1"), ("A", "B", "1980-01-01", "2"),
                         ("J", "S", "1975-03-02", "9"))
    links = nta_links(client_identities(episodes), pnc_identity_variants(
        _nominals(SMITH), _aliases()))
    by_status = links.set_index("link_status")["match_probability"]
    assert by_status["matched"] == 1.0 and by_status["absent"] == 0.0
    assert pd.isna(by_status["ambiguous"])


def test_two_persons_with_one_attributor_are_ambiguous():
    links = _links(
        _episodes(("J", "S", "1975-03-02", "1")),
        _nominals(SMITH, ("P2", "Sykes", "Jim", "1975-03-02", "M")),
    )
    assert links == {"J|S|1975-03-02|1": ("ambiguous", None)}


def test_unconsolidated_duplicate_pnc_records_are_ambiguous():
    links = _links(
        _episodes(("J", "S", "1975-03-02", "1")),
        _nominals(SMITH, ("P9", "Smith", "John", "1975-03-02", "M")),
    )
    assert links == {"J|S|1975-03-02|1": ("ambiguous", None)}


def test_person_candidate_of_two_clients_via_alias_dob_makes_both_ambiguous():
    links = _links(
        _episodes(("J", "S", "1975-03-02", "1"), ("J", "S", "1975-02-03", "1")),
        _nominals(SMITH),
        _aliases(("P1", "Smith", "John", "1975-02-03")),
    )
    assert links == {
        "J|S|1975-03-02|1": ("ambiguous", None),
        "J|S|1975-02-03|1": ("ambiguous", None),
    }


def test_match_via_alias_name():
    links = _links(
        _episodes(("K", "T", "1975-03-02", "1")),
        _nominals(SMITH),
        _aliases(("P1", "Taylor", "Kevin", None)),  # empty DOB: the nominal's
    )
    assert links == {"K|T|1975-03-02|1": ("matched", "P1")}


def test_match_via_alias_second_dob():
    links = _links(
        _episodes(("J", "S", "1976-03-02", "1")),
        _nominals(SMITH),
        _aliases(("P1", "Smith", "Johnny", "1976-03-02")),
    )
    assert links == {"J|S|1976-03-02|1": ("matched", "P1")}


def test_alias_with_own_dob_does_not_match_on_the_nominal_dob():
    links = _links(
        _episodes(("K", "T", "1975-03-02", "1")),
        _nominals(SMITH),
        _aliases(("P1", "Taylor", "Kevin", "1990-01-01")),
    )
    assert links == {"K|T|1975-03-02|1": ("absent", None)}


def test_sex_9_client_is_ambiguous_and_does_not_block_a_match():
    links = _links(
        _episodes(("J", "S", "1975-03-02", "9"), ("J", "S", "1975-03-02", "1")),
        _nominals(SMITH),
    )
    assert links == {
        "J|S|1975-03-02|9": ("ambiguous", None),
        "J|S|1975-03-02|1": ("matched", "P1"),
    }


def test_unusable_initials_are_ambiguous_and_do_not_block():
    links = _links(
        _episodes(
            ("J", None, "1975-03-02", "1"),
            ("JO", "S", "1975-03-02", "1"),
            ("1", "S", "1975-03-02", "1"),
            ("A", "B", "1980-01-01", "2"),  # nobody on the PNC: would be absent
            (None, "B", "1980-01-01", "2"),
        ),
        _nominals(SMITH, ("P3", "Smyth", "Joe", "1975-03-02", "U")),
        _aliases(("P1", "Smith", "123", None)),  # an alias with no first initial
    )
    assert links == {
        "J||1975-03-02|1": ("ambiguous", None),
        "JO|S|1975-03-02|1": ("ambiguous", None),
        "1|S|1975-03-02|1": ("ambiguous", None),
        "A|B|1980-01-01|2": ("absent", None),
        "|B|1980-01-01|2": ("ambiguous", None),
    }


def test_accents_apostrophes_and_lower_case_initials():
    links = _links(
        _episodes(("e", "o", "1981-07-14", "1"), ("z", "n", "1990-12-31", "2")),
        _nominals(
            ("P1", "O'Brien", "Émile Jean", "1981-07-14", "M"),
            ("P2", "Ñúñez", " zoë", "1990-12-31", "F"),
        ),
    )
    assert links == {
        "E|O|1981-07-14|1": ("matched", "P1"),
        "Z|N|1990-12-31|2": ("matched", "P2"),
    }


def test_one_attributor_at_two_agencies_is_one_client():
    episodes = _episodes(
        ("J", "S", "1975-03-02", "1", "A1"),
        ("j", "s", "1975-03-02", "1", "A2"),
        ("J", "S", "1975-03-02", "1", "A2"),
    )
    clients = client_identities(episodes)
    assert len(clients) == 1 and clients["episodes"].tolist() == [3]
    assert _links(episodes, _nominals(SMITH)) == {"J|S|1975-03-02|1": ("matched", "P1")}


def test_pnc_sex_u_is_never_a_candidate():
    links = _links(
        _episodes(("J", "S", "1975-03-02", "1"), ("A", "B", "1980-01-01", "2")),
        _nominals(("P1", "Smith", "John", "1975-03-02", "U"),
                  ("P2", "Brown", "Ann", "1980-01-01", "U")),
    )
    assert links == {
        "J|S|1975-03-02|1": ("absent", None),
        "A|B|1980-01-01|2": ("absent", None),
    }


def test_one_person_with_two_matching_variants_is_one_candidate():
    # the alias repeats the nominal's attributor: still one person, so matched
    links = _links(
        _episodes(("J", "S", "1975-03-02", "1")),
        _nominals(SMITH),
        _aliases(("P1", "Smithe", "Jon", None)),
    )
    assert links == {"J|S|1975-03-02|1": ("matched", "P1")}


def test_client_attributes_for_later_linkage():
    episodes = _episodes(
        ("J", "S", "1975-03-02", "1"), ("J", "S", "1975-03-02", "1"), ("J", "S", "1975-03-02", "1")
    )
    episodes["pc"] = pd.Series(["LS6", "M14", "M14"], dtype="str")
    episodes["ethnic"] = pd.Series([None, None, "B"], dtype="str")
    episodes["triaged"] = pd.to_datetime(["2006-05-01", "2004-01-01", "2008-02-02"])
    client = client_identities(episodes).iloc[0]
    assert (client["pc"], client["ethnic"], client["linkable"]) == ("M14", "B", True)
    assert client["first_triaged"] == pd.Timestamp("2004-01-01")
    assert client["last_triaged"] == pd.Timestamp("2008-02-02")


def test_variants_carry_nominal_sex_and_drop_duplicates():
    variants = pnc_identity_variants(
        _nominals(("P1", "Smith", "John", "1975-03-02", "F")),
        _aliases(("P1", "Smith", "Jon", None), ("P1", "Jones", "Mary", "1976-01-01")),
    )
    assert variants[["finitial", "sinitial", "sex", "source"]].values.tolist() == [
        ["J", "S", "2", "nominal"],
        ["M", "J", "2", "alias"],
    ]
    assert variants["dob"].tolist() == [pd.Timestamp("1975-03-02"), pd.Timestamp("1976-01-01")]
    assert (variants["force"] == "06").all()
