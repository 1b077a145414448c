"""The import rules of docs/ARCHITECTURE.md, read from the code itself (every import
statement, those inside functions included)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dagster_project"
DOMAIN = ["staging", "linkage", "cohort", "comparison", "report", "synth", "vocabulary"]
# the folders of dagster_project/ by kind: Dagster's side (and the command) above, the rest
# plain Python that a notebook could import without an instance
DAGSTER_SIDE = ["orchestration", "cli"]
PLAIN = [*DOMAIN, "warehouse", "delivery", "analysis"]


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def _is_dagster(module: str) -> bool:
    top = module.split(".")[0]
    return top == "dagster" or (top.startswith("dagster_") and top != "dagster_project")


def _sources(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def test_every_module_lives_in_a_folder_of_its_kind():
    loose = {p.name for p in PACKAGE.glob("*.py")}
    assert loose == {"__init__.py", "definitions.py", "settings.py"}
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert folders == {*DAGSTER_SIDE, *PLAIN}


@pytest.mark.parametrize("package", PLAIN)
def test_plain_packages_never_import_dagster(package):
    offenders = {str(p.relative_to(ROOT)): sorted(filter(_is_dagster, imported_modules(p)))
                 for p in _sources(PACKAGE / package)}
    assert not {p: m for p, m in offenders.items() if m}


def test_the_vocabulary_and_the_generator_stand_alone():
    for package, allowed in (("vocabulary", "dagster_project.vocabulary"),
                             ("synth", "dagster_project.synth")):
        for path in _sources(PACKAGE / package):
            own = {m for m in imported_modules(path) if m.startswith("dagster_project")}
            assert all(m.startswith(allowed) for m in own), (path, own)


@pytest.mark.parametrize("package", PLAIN)
def test_plain_packages_never_import_the_dagster_side(package):
    for path in _sources(PACKAGE / package):
        upward = {m for m in imported_modules(path)
                  if m.split(".")[:2] in (["dagster_project", s] for s in DAGSTER_SIDE)}
        assert not upward, (path, upward)


def test_orchestration_never_imports_the_command():
    for path in _sources(PACKAGE / "orchestration"):
        command = {m for m in imported_modules(path) if m.startswith("dagster_project.cli")}
        assert not command, (path, command)


def test_only_the_command_runs_the_code_location():
    # definitions.py merges what the layers below export: none of them may import it back
    for path in _sources(PACKAGE):
        if path.parent.name != "cli" and "dagster_project.definitions" in imported_modules(path):
            raise AssertionError(f"{path} imports the code location")


def test_the_warehouse_knows_nothing_of_what_it_stores():
    # DataFrames in and out by table name: no delivery, stage or analysis of its own
    for path in _sources(PACKAGE / "warehouse"):
        own = {m for m in imported_modules(path) if m.startswith("dagster_project")}
        assert all(m.startswith("dagster_project.warehouse") for m in own), (path, own)


def test_only_the_definitions_assemble_assets_and_checks():
    for path in _sources(PACKAGE):
        if path.name == "definitions.py":
            continue
        wiring = {m for m in imported_modules(path) if m.split(".")[0] in ("assets", "checks")}
        assert not wiring, (path, wiring)


def test_the_rules_see_imports_inside_functions(tmp_path):
    # the reader must catch a lazy import, or the rules above could pass on a lie
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    import dagster as dg\n    from dagster_pipes import x\n")
    assert {m for m in imported_modules(sample) if _is_dagster(m)} == {"dagster",
                                                                      "dagster_pipes"}
