"""One typed settings object: METHOD.md's defaults, locations and secrets from the environment.

`Settings` is a frozen pydantic model: whatever a value comes from (the environment, a
launchpad override through `resources.SettingsResource`, a test) it is converted and checked
here, so a path is a `Path`, a threshold a float and the linkage method one of
`LINKAGE_METHODS` by the time any stage reads it.

Exports `Settings`, `LinkageMethod`, `LINKAGE_METHODS`, `project_data_dir`.
"""

import os
import secrets
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LinkageMethod = Literal["probabilistic", "deterministic"]
LINKAGE_METHODS: tuple[str, ...] = get_args(LinkageMethod)
# METHOD.md §8's variables, by the field each sets
ENVIRONMENT = {
    "landing_dir": "RECONVICTION_LANDING_DIR",
    "warehouse_url": "RECONVICTION_WAREHOUSE_URL",
    "linkage_method": "RECONVICTION_LINKAGE_METHOD",
    "pseudonym_key": "RECONVICTION_PSEUDONYM_KEY",
}


def project_data_dir() -> Path:
    """The project's data folder: `data/` beside pyproject.toml in a checkout, else in the cwd."""
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").exists():
        return root / "data"
    return Path.cwd() / "data"


def _default_warehouse_url() -> str:
    return f"duckdb:///{project_data_dir() / 'warehouse.duckdb'}"


class Settings(BaseModel):
    """Everything a run depends on besides the delivery itself (METHOD.md: every threshold
    is a default that lives here). Recorded as metadata with every output, less the secret.
    The warehouse URL is held here only: the warehouse resources read it from here."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    landing_dir: Path = Field(default_factory=lambda: project_data_dir() / "landing")
    warehouse_url: str = Field(default_factory=_default_warehouse_url)
    linkage_method: LinkageMethod = "probabilistic"
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
    pseudonym_key: str | None = Field(default=None, repr=False)

    @field_validator("linkage_method", mode="before")
    @classmethod
    def _method_as_written(cls, value):
        # the environment's " Deterministic" means deterministic
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> "Settings":
        if not 0 <= self.absent_floor < self.match_threshold <= 1:
            raise ValueError("need 0 <= absent_floor < match_threshold <= 1")
        return self

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        """Read METHOD.md §8's variables (unset or empty ones keep the defaults), then apply
        `overrides`; every value is converted and validated by the model."""
        env = os.environ if environ is None else environ
        values = {name: env[variable] for name, variable in ENVIRONMENT.items()
                  if env.get(variable)}
        return cls(**{**values, **overrides})

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
            from dagster_project.warehouse.private_files import create_private_once

            key_file.parent.mkdir(parents=True, exist_ok=True)
            # 0600 from its first byte; of concurrent first runs, one key wins for all
            create_private_once(key_file, secrets.token_hex(32).encode())
        return key_file.read_text().strip()

    def with_(self, **changes) -> "Settings":
        """A copy with `changes`, validated like any other settings."""
        return type(self)(**{**dict(self), **changes})

    def as_metadata(self) -> dict[str, str | int | float | bool | list]:
        """The settings as flat metadata values; the pseudonym key is reported only as set/unset
        and the warehouse URL without its password."""
        out = {}
        for name, value in self:
            if name == "pseudonym_key":
                continue
            # as JSON gives them back: a recorded value must compare equal to today's
            out[name] = (str(value) if isinstance(value, Path)
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
