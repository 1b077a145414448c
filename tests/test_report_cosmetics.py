"""What a reader of the report notices first (issue 14): a synthetic delivery is marked, no
local path is shown, one minus sign, the `*` footnote only where something is suppressed, no
note over a drawn bar, and exports that carry the report's words beside the codes."""

import re
from dataclasses import replace

import pandas as pd

from dagster_project.report import export_tables, render_report
from dagster_project.report.cells import label
from dagster_project.report.charts import Bar, paired_chart
from dagster_project.report.provenance import is_synthetic, shown_settings
from dagster_project.settings import Settings
from tests.test_report import THRESHOLD, crafted  # noqa: F401  (the fixture)

FOOTNOTE = '<p class="note">* suppressed'


def _text_nodes(html: str) -> list[str]:
    body = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return [t for t in re.findall(r">([^<]+)<", body) if t.strip()]


def test_a_synthetic_delivery_is_marked_and_a_real_one_is_not(crafted, tmp_path):  # noqa: F811
    assert "Synthetic data" not in render_report(crafted)
    assert "Synthetic data" in render_report(replace(crafted, synthetic=True))
    (tmp_path / "landing" / "2009-10-31").mkdir(parents=True)
    assert not is_synthetic(tmp_path / "landing", "2009-10-31")
    (tmp_path / "truth" / "2009-10-31").mkdir(parents=True)
    assert is_synthetic(tmp_path / "landing", "2009-10-31")


def test_settings_show_no_local_path_and_where_the_key_came_from(tmp_path):
    settings = Settings(landing_dir=tmp_path / "secure" / "landing",
                        warehouse_url="postgresql+psycopg://analyst:pw@db.internal:5432/rc")
    shown = shown_settings(settings.as_metadata())
    text = " ".join(shown.values())
    assert str(tmp_path) not in text and "db.internal" not in text and "analyst" not in text
    assert shown["landing folder"] == "landing" and shown["warehouse"] == "postgresql"
    assert shown["pseudonym key"] == "from file"
    keyed = shown_settings(settings.with_(pseudonym_key="secret").as_metadata())
    assert keyed["pseudonym key"] == "from environment" and "secret" not in keyed.values()


def test_the_report_shows_no_path_of_this_machine(crafted, tmp_path):  # noqa: F811
    settings = Settings(landing_dir=tmp_path / "landing",
                        warehouse_url=f"duckdb:///{tmp_path}/warehouse.duckdb")
    html = render_report(replace(crafted, settings=settings.as_metadata()))
    assert str(tmp_path) not in html
    assert "pseudonym_key_set" not in html and "from file" in html


def test_one_minus_sign_everywhere(crafted):  # noqa: F811
    replication = crafted.replication.assign(pipeline_deterministic=["110", "-7.1%", "3"])
    html = render_report(replace(crafted, replication=replication))
    negatives = [t for t in _text_nodes(html) if re.search(r"(?<![\w.])-\d", t)]
    assert negatives == []
    assert "−7.1%" in html


def test_footnote_only_under_tables_with_a_suppressed_cell(crafted):  # noqa: F811
    assert FOOTNOTE in render_report(crafted)  # its tiny groups are suppressed
    shown = crafted.outcomes["suppressed_cells"].fillna("") == ""
    clean = replace(crafted, outcomes=crafted.outcomes[shown],
                    funnel=crafted.funnel.assign(persons=[120, 110, 80, 27, 6, 107, 60],
                                                 suppressed_cells=""),
                    replication=None)
    assert FOOTNOTE not in render_report(clean)


def test_not_drawn_note_never_covers_a_drawn_bar():
    bars = [Bar("theft", 40, second=30), Bar("robbery", None, second=12),
            Bar("fraud", None, second=None)]
    svg = paired_chart(bars, "before and after", THRESHOLD)
    rows = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "* → 12" in rows  # the half drawn says what is hidden in its own label
    assert sum("not drawn" in r for r in rows) == 1  # only over the empty row


def test_exports_carry_the_report_words_beside_the_codes(crafted, tmp_path):  # noqa: F811
    export_tables({"outcome_table": crafted.outcomes, "cohort_funnel": crafted.funnel},
                  tmp_path, THRESHOLD)
    outcomes = pd.read_csv(tmp_path / "outcome_table.csv", comment="#", dtype=str)
    columns = list(outcomes.columns)
    assert columns[columns.index("group") + 1] == "group_label"
    sex = outcomes[outcomes["dimension"] == "sex"].set_index("group")["group_label"]
    assert sex["1"] == "male"  # the code kept, the word beside it
    assert (outcomes["group_label"] == outcomes["group"].map(label)).all()
    funnel = pd.read_csv(tmp_path / "cohort_funnel.csv", comment="#", dtype=str)
    assert funnel.set_index("stage").loc["adult_starters", "stage_label"] == "adult starters"


def test_the_subgroup_charts_are_the_headline_dimensions_but_all():
    from dagster_project.report.sections import SUBGROUP_CHARTS
    from dagster_project.vocabulary.dimensions import HEADLINE_DIMENSIONS

    assert sorted(SUBGROUP_CHARTS) == sorted(set(HEADLINE_DIMENSIONS) - {"all"})
