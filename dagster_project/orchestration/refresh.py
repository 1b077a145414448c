"""Whether the delivery refresh must run: the newest complete delivery differs from the one
loaded, or the code or settings that load it changed, or the last refresh did not finish.

Dagster's own versioning carries the facts, so `reconviction run`, the delivery sensor and the
UI judge alike: the `landing` source asset is observed with the newest complete delivery's
data version (its extract date and a digest of its manifest, which holds every file's
SHA-256), and the raw and staging assets carry code versions digested from the source files
that load a delivery. The UI marks raw as stale when either changes; this module asks the
instance the same question without running anything.

Exports `delivery_version`, `newest_landed_delivery`, `refresh_reason`, `observe_landing`,
`redelivery_problem`, `ACCEPT_REDELIVERY_VARIABLE`,
`RAW_CODE_VERSION`, `STAGING_CODE_VERSION`, `LANDING_KEY`, `DATA_VERSION_TAG`.
"""

import hashlib
from pathlib import Path

import dagster as dg

from dagster_project.delivery.schemas import DELIVERY_FILES, RAW_TABLES

LANDING_KEY = dg.AssetKey("landing")
_ROOT = Path(__file__).resolve().parents[2]  # the repository: the digests name paths from it
DATA_VERSION_TAG = "dagster/data_version"


def _source_digest(*patterns: str) -> str:
    """A digest of the source files matching the patterns (relative to the repository root):
    any edit to the code that loads a delivery makes its tables stale."""
    digest = hashlib.sha256()
    for path in sorted(p for pattern in patterns for p in _ROOT.glob(pattern)):
        digest.update(path.relative_to(_ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


RAW_CODE_VERSION = _source_digest(
    "dagster_project/delivery/raw.py", "dagster_project/delivery/manifest.py",
    "dagster_project/delivery/scan.py", "dagster_project/delivery/schemas.py", "assets/raw.py",
)
STAGING_CODE_VERSION = _source_digest(
    "dagster_project/staging/*.py", "dagster_project/delivery/reference_data/*.csv",
    "assets/staging.py",
)


def delivery_version(path: Path) -> str:
    """`<extract date>:<manifest digest>`: a delivery re-sent under the same date with other
    files has another manifest (its SHA-256 lines), hence another version."""
    manifest = hashlib.sha256((Path(path) / "manifest.json").read_bytes()).hexdigest()[:16]
    return f"{Path(path).name}:{manifest}"


def newest_landed_delivery(
    landing_dir: Path, newer_than: str | None = None, dated_by: str | None = None
) -> tuple[Path | None, list[str]]:
    """The newest delivery with a valid manifest and every file present (not hashed: this is
    asked before every run and by every sensor tick, and must stay quick on a national
    delivery; the raw step verifies the hashes), and why newer ones were passed over.

    `newer_than` (a sensor's cursor) and `dated_by` (a schedule's day) bound the extract
    dates looked at, both as ISO dates `YYYY-MM-DD`."""
    from dagster_project.delivery.manifest import is_complete, list_deliveries

    passed_over = []
    for path in reversed(list_deliveries(landing_dir)):
        if (newer_than is not None and path.name <= newer_than) or (
                dated_by is not None and path.name > dated_by):
            continue
        complete, reason = is_complete(path)
        if complete:
            return path, passed_over
        passed_over.append(f"{path.name}: {reason}")
    return None, passed_over


def observe_landing(instance: dg.DagsterInstance, path: Path | None) -> None:
    """Record the landing folder's current data version, as the asset's own observation
    would, so the UI shows raw stale (or not) as this process judged it."""
    version = delivery_version(path) if path else "none"
    instance.report_runless_asset_event(
        dg.AssetObservation(asset_key=LANDING_KEY, tags={DATA_VERSION_TAG: version})
    )


ACCEPT_REDELIVERY_VARIABLE = "RECONVICTION_ACCEPT_REDELIVERY"


def redelivery_problem(instance: dg.DagsterInstance, landed: Path) -> str | None:
    """Why `landed` must not be loaded because a delivery of the same extract date with other
    files was loaded before (an extract date names one extract; published figures cite it),
    or None. RECONVICTION_ACCEPT_REDELIVERY=<extract date> accepts the replacement."""
    import os

    from dagster_project.orchestration.instance_state import POINTER_KEY

    if os.environ.get(ACCEPT_REDELIVERY_VARIABLE, "").strip() == landed.name:
        return None
    version = delivery_version(landed)
    for record in instance.fetch_materializations(POINTER_KEY, limit=100).records:
        metadata = record.event_log_entry.asset_materialization.metadata
        date, loaded = metadata.get("extract_date"), metadata.get("delivery_version")
        if date is not None and str(date.value) == landed.name and loaded is not None \
                and loaded.value != version:
            return (
                f"delivery {landed.name} was loaded before with other files (manifest "
                f"{str(loaded.value).split(':')[-1]}, now {version.split(':')[-1]}): refused; "
                f"land a corrected extract under its own date, or set "
                f"{ACCEPT_REDELIVERY_VARIABLE}={landed.name} to replace it"
            )
    return None


def _settings_changed(materialization, settings) -> bool:
    recorded = materialization.metadata.get("settings")
    return recorded is None or recorded.value != settings.as_metadata()


def refresh_reason(
    instance: dg.DagsterInstance, settings, landed: Path, look_in_warehouse: bool = True
) -> str | None:
    """Why the refresh must run to load `landed`, or None when the warehouse holds it already,
    loaded by this code with these settings in a refresh that finished. A sensor passes
    `look_in_warehouse=False`: its tick must not wait on the warehouse's lock."""
    from dagster_project.orchestration.instance_state import latest_switch
    from dagster_project.warehouse.engine import Warehouse

    switch = latest_switch(instance)  # the delivery readers use: its refresh finished
    if switch is None:
        return "no delivery loaded yet"
    loaded = switch.metadata.get("delivery_version")
    if loaded is None or loaded.value != delivery_version(landed):
        was = switch.metadata.get("extract_date")
        return f"delivery {landed.name} is not the one loaded ({was.value if was else 'unknown'})"
    versions = (("raw", RAW_CODE_VERSION), ("staging", STAGING_CODE_VERSION))
    recorded = [(switch.metadata.get(f"{stage}_code_version"), v) for stage, v in versions]
    if any(m is None or m.value != v for m, v in recorded):
        return f"the code that loads a delivery changed since {landed.name} was loaded"
    if _settings_changed(switch, settings):
        return f"the settings changed since {landed.name} was loaded"
    if look_in_warehouse:
        wh = Warehouse(settings.warehouse_url)
        schema = switch.metadata.get("schema")
        if not wh.table_exists(RAW_TABLES[DELIVERY_FILES[0]]) or (
            schema is not None and wh.search_path()[0] != schema.value
        ):
            return "the warehouse does not hold the loaded tables"
    return None
