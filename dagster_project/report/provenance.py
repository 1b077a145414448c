"""Where a cohort year's report goes, and which code produced it.

Exports `output_dir`, `report_path`, `code_version`, `shown_settings`, `is_synthetic`,
`OUTPUT_DIR_VARIABLE`, `REPORT_FILE`.
"""

import os
import subprocess
from importlib import metadata
from pathlib import Path

from dagster_project.settings import project_data_dir

OUTPUT_DIR_VARIABLE = "RECONVICTION_OUTPUT_DIR"
REPORT_FILE = "report.html"
_REPO = Path(__file__).resolve().parents[2]


def output_dir(cohort_year: str, environ: dict[str, str] | None = None) -> Path:
    """`$RECONVICTION_OUTPUT_DIR/<cohort year>/`, by default `data/reports/<cohort year>/`."""
    env = os.environ if environ is None else environ
    root = Path(env[OUTPUT_DIR_VARIABLE]) if env.get(OUTPUT_DIR_VARIABLE) else (
        project_data_dir() / "reports")
    return root / cohort_year


def report_path(cohort_year: str, environ: dict[str, str] | None = None) -> Path:
    return output_dir(cohort_year, environ) / REPORT_FILE


def _git_commit() -> str | None:
    """The checkout's commit (with `+changes` when the tree is dirty), or None without git."""
    try:
        run = lambda *args: subprocess.run(  # noqa: E731
            ["git", *args], cwd=_REPO, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        commit = run("rev-parse", "--short=12", "HEAD")
        dirty = run("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):  # no git, not a checkout, a slow disk
        return None
    return f"{commit}+changes" if dirty else commit


def code_version() -> str:
    """`reconviction <version>` and the git commit when the code runs from a checkout."""
    try:
        version = metadata.version("reconviction")
    except metadata.PackageNotFoundError:
        version = "unknown"
    commit = _git_commit()
    return f"reconviction {version}" + (f" (git {commit})" if commit else "")


def is_synthetic(landing_dir: Path | str, extract_date: str) -> bool:
    """A synthetic delivery has its ground truth beside the landing folder
    (`truth/<extract date>/`, written by `reconviction synth`); a real one never does."""
    return (Path(landing_dir).parent / "truth" / extract_date).is_dir()


def _backend(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).get_backend_name()
    except Exception:  # an unparseable URL: say nothing of it rather than print it
        return "unknown"


def shown_settings(settings: dict) -> dict[str, str]:
    """The settings as a published report may show them: no local path or server address
    (the landing folder's name and the warehouse's backend are enough to tell runs apart),
    and where the pseudonym key came from, never the key."""
    shown = {k: str(v) for k, v in settings.items()
             if k not in ("landing_dir", "warehouse_url", "pseudonym_key_set")}
    shown["landing folder"] = Path(str(settings.get("landing_dir", ""))).name
    shown["warehouse"] = _backend(str(settings.get("warehouse_url", "")))
    shown["pseudonym key"] = (
        "from environment" if settings.get("pseudonym_key_set") else "from file"
    )
    return dict(sorted(shown.items()))
