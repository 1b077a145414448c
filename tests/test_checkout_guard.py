"""The guard that keeps the suite out of the checkout's `data/` sees every kind of change."""

from tests.checkout_guard import changes, snapshot


def test_guard_sees_added_removed_and_rewritten_files(tmp_path):
    (tmp_path / "reports" / "2006-07").mkdir(parents=True)
    kept, rewritten, removed = (tmp_path / n for n in ("kept.txt", "report.html", "old.csv"))
    for path in (kept, rewritten, removed):
        path.write_text("demo")
    before = snapshot(tmp_path)
    assert changes(before, snapshot(tmp_path)) == []

    rewritten.write_text("a 32-person test report")
    removed.unlink()
    (tmp_path / "reports" / "2006-07" / "report.html").write_text("test")
    assert changes(before, snapshot(tmp_path)) == [
        "added reports/2006-07/report.html", "changed report.html", "removed old.csv",
    ]


def test_a_missing_data_folder_is_an_empty_snapshot(tmp_path):
    assert snapshot(tmp_path / "absent") == {}
