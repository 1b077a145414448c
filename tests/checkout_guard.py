"""What the test suite may not touch: the checkout's `data/` folder, where the user's demo
delivery, warehouse, reports and Dagster runs live.

Exports `snapshot`, `changes`.
"""

from pathlib import Path


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under `folder` with its size and modification time (no hashing: a national
    delivery is gigabytes, and a test that writes a file changes its mtime)."""
    if not folder.is_dir():
        return {}
    return {
        str(path.relative_to(folder)): (stat.st_size, stat.st_mtime_ns)
        for path in folder.rglob("*")
        if path.is_file() and not path.is_symlink()
        for stat in [path.stat()]
    }


def changes(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> list[str]:
    """`added`, `removed` or `changed` with the file's path, sorted."""
    added = [f"added {p}" for p in after.keys() - before.keys()]
    removed = [f"removed {p}" for p in before.keys() - after.keys()]
    changed = [f"changed {p}" for p in before.keys() & after.keys() if before[p] != after[p]]
    return sorted(added + removed + changed)
