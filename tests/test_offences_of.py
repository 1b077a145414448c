"""The offences of chosen persons, joined in the warehouse a slice of persons at a time: the
same rows in the same order whatever the slice, on both backends, and nobody else's."""

import pandas as pd
import pytest

from dagster_project.linkage.handover import OFFENCE_COLUMNS, linked_offences, offences_of
from dagster_project.warehouse.engine import Warehouse


def _staged_offences() -> pd.DataFrame:
    rows = []
    for i, pncid in enumerate(["01/1A", "02/2B", "03/3C", "04/4D", "05/5E"]):
        for j in range(3):
            rows.append({
                "pncid": pncid, "cjs_code": f"TH68{j:03d}", "offence_group": "theft",
                "trigger": j != 1, "offence_start": pd.Timestamp(2005, 1 + i, 1 + j),
                "offence_end": pd.NaT, "force": ["01", "zz", "Ab"][j], "outcome": "C",
                "outcome_date": pd.Timestamp(2005, 6 + i, 1), "disposal": "CUS" if j else None,
                "custody_days": 30 if j else None,
            })
    # a duplicate transmission differing in force only, in case: code points put "Z1" first,
    # an English locale "a1"
    rows.append({**rows[0], "force": "a1"})
    rows.append({**rows[0], "force": "Z1"})
    return pd.DataFrame(rows)[["pncid", *OFFENCE_COLUMNS]].iloc[::-1]  # not in key order


def test_slices_of_persons_give_the_whole_join_in_one_order(warehouse_url):
    wh = Warehouse(warehouse_url)
    wh.write_table("staged_pnc_offences", _staged_offences())
    persons = pd.DataFrame({"pncid": ["04/4D", "01/1A", "03/3C"], "pnc_key": ["k3", "k9", "k1"]})

    whole = pd.concat(offences_of(wh, persons, "pnc_key", persons_per_slice=1000))
    sliced = list(offences_of(wh, persons, "pnc_key", persons_per_slice=1))

    assert [len(s) for s in sliced] == [3, 3, 5]
    pd.testing.assert_frame_equal(pd.concat(sliced, ignore_index=True),
                                  whole.reset_index(drop=True))
    assert whole["pnc_key"].tolist() == ["k1"] * 3 + ["k3"] * 3 + ["k9"] * 5
    assert list(whole.columns) == ["pnc_key", *OFFENCE_COLUMNS]  # no PNCID leaves
    assert whole["force"].tolist()[-5:] == ["01", "Z1", "a1", "zz", "Ab"]
    # nobody chosen: one empty slice that still names the columns
    none = list(offences_of(wh, persons.iloc[:0], "pnc_key"))
    assert len(none) == 1 and none[0].empty and list(none[0].columns) == list(whole.columns)


def test_a_pnc_person_matched_to_two_clients_is_refused(warehouse_url):
    links = pd.DataFrame({"person_key": ["a", "b"], "link_status": ["matched", "matched"],
                          "pncid": ["01/1A", "01/1A"]})
    with pytest.raises(ValueError, match="one-to-one"):
        linked_offences(links, Warehouse(warehouse_url))
