#!/usr/bin/env python
"""djanorm vs the raw driver, per operation.

    python bench/run.py [--backend sqlite|postgresql|all] [--quick] [--json out.json] [--only SCENARIO]

Creates the data set (1,000 authors, 10,000 books) once per backend, runs
every scenario with the raw driver (the floor) and with djanorm, and prints
µs per operation (median of the repeats, after a warm-up) and the ratio.
PostgreSQL (``dorm_bench`` at 127.0.0.1:5432, user postgres) is skipped
with the reason when unreachable.  See docs/benchmarks.md.
"""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402
    DESCRIPTIONS,
    READ_SCENARIOS,
    SCENARIOS,
    Plan,
    Result,
    dump_json,
    fmt_us,
    median_of,
    parse_args,
    per_backend_processes,
    render_table,
    run_libraries,
    run_suite,
    status_of,
)


def run_raw(backend: str, sqlite_file: str | None, plan: Plan, only: list[str] | None, log: Any) -> dict[str, Result]:
    from raw import RawPostgresSuite, RawSQLiteSuite

    suite: Any = RawSQLiteSuite(sqlite_file or "") if backend == "sqlite" else RawPostgresSuite()
    try:
        return run_suite(suite, plan, backend, sqlite_file, only, log)
    finally:
        suite.close()


def run_dorm(backend: str, sqlite_file: str | None, plan: Plan, only: list[str] | None, log: Any) -> dict[str, Result]:
    from dorm_suite import DormSuite

    suite = DormSuite(backend, sqlite_file)
    try:
        return run_suite(suite, plan, backend, sqlite_file, only, log)
    finally:
        suite.close()


def table(payload: dict[str, Any], backend: str) -> str:
    libs = payload["results"].get(backend, {})
    raw, dorm = libs.get("raw"), libs.get("djanorm")
    lines = [f"## {backend}"]
    for name, lib in (("raw", raw), ("djanorm", dorm)):
        status = status_of(lib)
        if status:
            lines.append(f"{name}: {status}")
    rows = []
    for sc in SCENARIOS:
        r, d = median_of(raw, sc), median_of(dorm, sc)
        if r is None and d is None:
            continue
        ratio = f"{d / r:.2f}x" if r and d else "-"
        flag = " !" if r and d and sc in READ_SCENARIOS and d > 2 * r else ""
        rows.append([sc, fmt_us(r), fmt_us(d), ratio + flag, DESCRIPTIONS[sc]])
    if rows:
        lines.append(render_table(["scenario", "raw µs", "djanorm µs", "ratio", "what"], rows, frozenset({0, 4})))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, __doc__ or "")
    from dorm_suite import dorm_status

    libraries: dict[str, Any] = {"raw": run_raw}
    reason = dorm_status()
    if reason is None:
        libraries["djanorm"] = run_dorm
    payload = per_backend_processes(args, __file__, argv) or run_libraries(
        args, libraries, {"libraries": list(libraries)}
    )
    if reason is not None:
        for per_lib in payload["results"].values():
            per_lib["djanorm"] = {"skipped": reason}
    if args.json == "-":
        dump_json(payload, "-")
        return 0
    env = payload["env"]
    print(
        f"djanorm bench — Python {env['python']}, {env['cpus']} CPUs, SQLite {env.get('sqlite')}, {env['date']}"
        + (" (QUICK: smoke test, not a measurement)" if args.quick else "")
    )
    for backend in payload["results"]:
        print()
        print(table(payload, backend))
    print("\n'!' marks a read more than 2x the raw driver (SPEC §7 target).")
    if args.json:
        dump_json(payload, args.json)
    failed = [
        f"{backend}/{lib}"
        for backend, libs in payload["results"].items()
        for lib, res in libs.items()
        if isinstance(res, dict) and "error" in res
    ]
    if failed:
        print("errors in: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
