"""One typed settings object: METHOD.md's defaults, locations and secrets from the environment.

Exports `Settings`, `LINKAGE_METHODS` and `project_data_dir`.
"""

import os
import secrets
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

LINKAGE_METHODS = ("probabilistic", "deterministic")


def project_data_dir() -> Path:
    """The project's data folder: `data/` beside pyproject.toml in a checkout, else in the cwd."""
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").exists():
        return root / "data"
    return Path.cwd() / "data"


def _default_warehouse_url() -> str:
    return f"duckdb:///{project_data_dir() / 'warehouse.duckdb'}"


@dataclass(frozen=True)
class Settings:
    """Everything a run depends on besides the delivery itself (METHOD.md: every threshold
    is a default that lives here). Recorded as metadata with every output, less the secret."""

    landing_dir: Path = field(default_factory=lambda: project_data_dir() / "landing")
    warehouse_url: str = field(default_factory=_default_warehouse_url)
    linkage_method: str = "probabilistic"
    # §1 journeys and adulthood
    journey_gap_days: int = 21
    adult_age: int = 18
    # §2 windows and counting
    window_days: int = 730
    waiting_period_days: int = 183
    count_cautions: bool = False
    # §3 probabilistic linkage
    match_threshold: float = 0.95
    absent_floor: float = 0.05
    # §7 linkage sensitivity: the probabilistic rule is also resolved at each of these
    sensitivity_thresholds: tuple[float, ...] = (0.80, 0.90, 0.95, 0.99, 0.999)
    # §6 disclosure control
    disclosure_threshold: int = 5
    # §10 comparison group: controls per member, caliper (SDs of the logit), bootstrap
    # resamples, the seed of every draw, and the most eligible person-dates the propensity
    # model is fitted on (beyond it, a seeded sample weighted back to the whole)
    comparison_controls: int = 5
    comparison_caliper_sd: float = 0.2
    comparison_bootstrap: int = 1000
    comparison_seed: int = 20120
    comparison_fit_rows: int = 400_000
    # §9 unknown codes warn above this share of rows
    unknown_code_warn_share: float = 0.001
    # the secret is never recorded; repr=False keeps it out of logs
    pseudonym_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.linkage_method not in LINKAGE_METHODS:
            raise ValueError(
                f"RECONVICTION_LINKAGE_METHOD must be one of {LINKAGE_METHODS}, "
                f"not {self.linkage_method!r}"
            )
        if not 0 <= self.absent_floor < self.match_threshold <= 1:
            raise ValueError("need 0 <= absent_floor < match_threshold <= 1")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        """Read METHOD.md §8's variables; unset or empty variables keep the defaults."""
        env = os.environ if environ is None else environ
        values: dict = {}
        if env.get("RECONVICTION_LANDING_DIR"):
            values["landing_dir"] = Path(env["RECONVICTION_LANDING_DIR"])
        if env.get("RECONVICTION_WAREHOUSE_URL"):
            values["warehouse_url"] = env["RECONVICTION_WAREHOUSE_URL"]
        if env.get("RECONVICTION_LINKAGE_METHOD"):
            values["linkage_method"] = env["RECONVICTION_LINKAGE_METHOD"].strip().lower()
        if env.get("RECONVICTION_PSEUDONYM_KEY"):
            values["pseudonym_key"] = env["RECONVICTION_PSEUDONYM_KEY"]
        values.update(overrides)
        return cls(**values)

    def resolved_pseudonym_key(self) -> str:
        """The pseudonym secret: RECONVICTION_PSEUDONYM_KEY, or for an embedded DuckDB
        warehouse a random key kept beside the warehouse file (created on first use), so
        that a demo needs no setup and its pseudonyms stay stable across runs. A server
        warehouse has no such fallback: production must set the variable."""
        if self.pseudonym_key:
            return self.pseudonym_key
        from sqlalchemy.engine import make_url

        url = make_url(self.warehouse_url)
        if url.get_backend_name() != "duckdb" or url.database in (None, "", ":memory:"):
            raise ValueError("set RECONVICTION_PSEUDONYM_KEY: a server warehouse needs the secret")
        key_file = Path(url.database).parent / "pseudonym.key"
        if not key_file.exists():
            from dagster_project.private_files import create_private_once

            key_file.parent.mkdir(parents=True, exist_ok=True)
            # 0600 from its first byte; of concurrent first runs, one key wins for all
            create_private_once(key_file, secrets.token_hex(32).encode())
        return key_file.read_text().strip()

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    def as_metadata(self) -> dict[str, str | int | float | bool | list]:
        """The settings as flat metadata values; the pseudonym key is reported only as set/unset
        and the warehouse URL without its password."""
        out = {}
        for f in fields(self):
            if f.name == "pseudonym_key":
                continue
            value = asdict(self)[f.name]
            # as JSON gives them back: a recorded value must compare equal to today's
            out[f.name] = (str(value) if isinstance(value, Path)
                           else list(value) if isinstance(value, tuple) else value)
        out["warehouse_url"] = _hide_password(self.warehouse_url)
        out["pseudonym_key_set"] = self.pseudonym_key is not None
        return out


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL fails later, where it is used
        return url
