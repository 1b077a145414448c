"""Time the warehouse's bulk paths: write and read of a wide text table in DuckDB and PostgreSQL.

    python benchmarks/bench_warehouse.py [--duckdb-rows 10000000] [--postgres-rows 1000000]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Each phase runs in its own process so that its peak RSS is its own. The PostgreSQL phases use a
throw-away database created on the given server (skipped if the server is unreachable).
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

TEXT_COLUMNS = 15


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def synthetic_frame(rows: int):
    """`rows` × 15 text columns: one unique key, the rest drawn from small vocabularies, with
    some NULLs, built in Arrow so that making the data does not dominate the timings."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(0)
    keys = pc.binary_join_element_wise("P", pc.cast(pa.array(np.arange(rows)), pa.string()), "")
    columns = {"person_key": keys}
    vocabulary = pa.array([f"value {i:03d} – Zoë, O'Brien" for i in range(500)] + [None])
    for i in range(1, TEXT_COLUMNS):
        picks = pa.array(rng.integers(0, len(vocabulary), rows, dtype=np.int32))
        columns[f"attribute_{i:02d}"] = vocabulary.take(picks)
    return pa.table(columns).to_pandas()


def phase(name: str, url: str, rows: int) -> dict:
    from dagster_project.vocabulary.partition import PARTITION_COLUMN
    from dagster_project.warehouse.engine import Warehouse

    wh = Warehouse(url)
    out: dict = {"phase": name, "rows": rows}
    if name.endswith("write"):
        df = synthetic_frame(rows)
        out["frame_mb"] = round(df.memory_usage(deep=True).sum() / 2**20)
        out["rss_after_build_mb"] = round(peak_rss_mb())
        started = time.perf_counter()
        wh.write_table("bench_wide", df, partition=(PARTITION_COLUMN, "2006-07"))
        out["seconds"] = round(time.perf_counter() - started, 2)
    else:
        started = time.perf_counter()
        df = wh.read_table("bench_wide")
        out["seconds"] = round(time.perf_counter() - started, 2)
        assert len(df) == rows, (len(df), rows)
        out["dtype"] = str(df["person_key"].dtype)
    out["peak_rss_mb"] = round(peak_rss_mb())
    return out


def run_phase(name: str, url: str, rows: int) -> dict:
    argv = [sys.executable, __file__, "--phase", name, "--url", url, "--rows", str(rows)]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duckdb-rows", type=int, default=10_000_000)
    parser.add_argument("--postgres-rows", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.url, args.rows)))
        return

    results = []
    with tempfile.TemporaryDirectory() as folder:
        url = f"duckdb:///{Path(folder) / 'bench.duckdb'}"
        for name in ("duckdb write", "duckdb read"):
            results.append(run_phase(name, url, args.duckdb_rows))
    results += postgres_phases(args.postgres_url, args.postgres_rows)
    for r in results:
        print(json.dumps(r))


def postgres_phases(server_url: str, rows: int) -> list[dict]:
    import sqlalchemy as sa

    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no server here: report and carry on
        print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
        return []
    url = sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        return [run_phase(p, url, rows) for p in ("postgresql write", "postgresql read")]
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
