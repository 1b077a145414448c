"""Reference code lists as assets, so lineage shows which code list classified what.

Exports `reference_assets` (one asset per code list: offence_codes, drug_codes, …).
"""

import dagster as dg

from dagster_project.delivery.reference import REFERENCE_TABLES, load_reference
from dagster_project.orchestration.metadata import table_metadata
from dagster_project.vocabulary.groups import REFERENCE_GROUP


def _reference_asset(name: str, filename: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=name,
        group_name=REFERENCE_GROUP,
        kinds={"csv", "pandas"},
        description=f"The code list `{filename}` shipped with the package (EXTRACTS.md).",
        code_version="1",
    )
    def _asset() -> dg.MaterializeResult:
        table = load_reference(name)
        # code lists hold no personal data: a preview is safe and useful
        return dg.MaterializeResult(
            value=table, metadata=table_metadata(table, preview=True, source_file=filename)
        )

    return _asset


reference_assets = [_reference_asset(name, f) for name, (f, _) in REFERENCE_TABLES.items()]
