#!/usr/bin/env python
"""Where does djanorm's time go in one scenario?  cProfile, normalised to µs per operation.

    python bench/profile_scenario.py pk_read [--backend sqlite|postgresql] [--number 2000] [--top 25] [--sort tottime|cumtime]
    python bench/profile_scenario.py select_related_100 --library raw      # the floor, for contrast

Sets the data set up, warms the scenario up, then profiles N calls and
prints the functions by own time (``tottime``) or cumulative time, each as
µs per operation.  cProfile adds its own cost to every Python call, so the
absolute numbers are inflated (roughly 2x for call-heavy code); compare the
rows with each other, and with the same profile of the raw floor.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import SCENARIOS, Plan, pg_available, pg_bench_lock, remove_sqlite, reset_writes, setup_backend  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--library", choices=["djanorm", "raw"], default="djanorm")
    parser.add_argument("--number", type=int, default=0, help="profiled calls (default: the scenario's bench N)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", choices=["tottime", "cumtime"], default="tottime")
    args = parser.parse_args(argv)

    lock = None
    if args.backend == "postgresql":
        reason = pg_available()
        if reason is not None:
            print(reason, file=sys.stderr)
            return 2
        lock = pg_bench_lock()
    sqlite_file = setup_backend(args.backend)
    try:
        if args.library == "raw":
            from raw import RawPostgresSuite, RawSQLiteSuite

            suite: Any = RawSQLiteSuite(sqlite_file or "") if args.backend == "sqlite" else RawPostgresSuite()
        else:
            from dorm_suite import DormSuite

            suite = DormSuite(args.backend, sqlite_file)
        sc = next(s for s in suite.scenarios() if s.name == args.scenario)
        n = args.number or Plan().number(sc.name)
        profiler = cProfile.Profile()

        if sc.aop is not None:
            aop = sc.aop

            async def run() -> float:
                if hasattr(suite, "aopen"):
                    await suite.aopen()
                try:
                    for i in range(n // 5 + 1):
                        await aop(i)
                    t0 = time.perf_counter()
                    for i in range(n):
                        await aop(i)
                    plain = (time.perf_counter() - t0) / n * 1e6
                    profiler.enable()
                    for i in range(n):
                        await aop(i)
                    profiler.disable()
                    return plain
                finally:
                    if hasattr(suite, "aclose"):
                        await suite.aclose()

            plain_us = asyncio.run(run())
        else:
            op = sc.op
            assert op is not None
            for i in range(n // 5 + 1):
                op(i)
            t0 = time.perf_counter()
            for i in range(n):
                op(i)
            plain_us = (time.perf_counter() - t0) / n * 1e6
            profiler.enable()
            for i in range(n):
                op(i)
            profiler.disable()
        reset_writes(args.backend, sqlite_file)

        stats = pstats.Stats(profiler, stream=io.StringIO())
        total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
        print(
            f"{args.library} {args.scenario} on {args.backend}: {plain_us:.1f} µs/op unprofiled; "
            f"{total / n * 1e6:.1f} µs/op under cProfile, {n} calls"
        )
        key = 2 if args.sort == "tottime" else 3
        rows = sorted(stats.stats.items(), key=lambda kv: kv[1][key], reverse=True)  # type: ignore[attr-defined]
        print(f"{'own µs/op':>10} {'cum µs/op':>10} {'calls/op':>9}  function")
        for (filename, line, func), (_cc, nc, tt, ct, _callers) in rows[: args.top]:
            where = filename
            for marker in ("/site-packages/", "/src/", "/lib/python3"):
                if marker in where:
                    where = where.split(marker, 1)[1]
                    break
            print(f"{tt / n * 1e6:10.2f} {ct / n * 1e6:10.2f} {nc / n:9.1f}  {func} ({where}:{line})")
        return 0
    finally:
        if sqlite_file:
            remove_sqlite(sqlite_file)
        if lock is not None:
            lock.close()


if __name__ == "__main__":
    sys.exit(main())
