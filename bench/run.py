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
    run_interleaved,
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


def run_both(
    backend: str, sqlite_file: str | None, plan: Plan, only: list[str] | None, log: Any
) -> dict[str, dict[str, Any]]:
    """The raw floor and djanorm in one process, their repeats interleaved (see common.run_interleaved)."""
    from dorm_suite import DormSuite, dorm_status
    from raw import RawPostgresSuite, RawSQLiteSuite

    suites: dict[str, Any] = {
        "raw": RawSQLiteSuite(sqlite_file or "") if backend == "sqlite" else RawPostgresSuite(),
    }
    extra: dict[str, dict[str, Any]] = {}
    reason = dorm_status()
    if reason is not None:
        extra["djanorm"] = {"skipped": reason}
    else:
        try:
            suites["djanorm"] = DormSuite(backend, sqlite_file)
        except Exception as exc:
            import traceback

            traceback.print_exc()
            extra["djanorm"] = {"error": f"setting djanorm up failed: {type(exc).__name__}: {exc}"}
    try:
        return {**run_interleaved(suites, plan, backend, sqlite_file, only, log), **extra}
    finally:
        for suite in suites.values():
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
    libraries: dict[str, Any] = {"raw": run_raw, "djanorm": run_dorm}
    payload = per_backend_processes(args, __file__, argv) or run_libraries(
        args, libraries, {"libraries": list(libraries)}, group=run_both
    )
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
    failed = errors(payload)
    if failed:
        print("\nerrors:\n" + "\n".join(f"  {where}: {msg}" for where, msg in failed), file=sys.stderr)
        return 1
    return 0


def errors(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """Every library- or scenario-level error in a payload, as (``backend/library[/scenario]``, message)."""
    found = []
    for backend, libs in payload["results"].items():
        for lib, res in libs.items():
            if not isinstance(res, dict):
                continue
            if "error" in res:
                found.append((f"{backend}/{lib}", str(res["error"])))
                continue
            for scenario, r in res.items():
                if isinstance(r, dict) and "error" in r:
                    found.append((f"{backend}/{lib}/{scenario}", str(r["error"])))
    return found


if __name__ == "__main__":
    sys.exit(main())
