"""Per-statement overhead of dorm-resilience: idle, and with each feature active.

Run: ``python packages/dorm-resilience/scripts/overhead.py`` (it re-runs itself
with ``DORM_DISABLE_PLUGIN_AUTOLOAD=1`` for the baseline).  Statements are
``SELECT 1`` through ``dorm.get_connection().execute`` on in-memory SQLite;
the best of several rounds is reported, in microseconds per statement.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

N = int(os.environ.get("DORM_OVERHEAD_N", "20000"))
ROUNDS = 7


def best_per_call(fn) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best / N * 1e6


def measure(mode: str) -> dict[str, float]:
    import dorm
    from dorm import plugins

    dorm.configure(DATABASES={"default": {"ENGINE": "sqlite", "NAME": ":memory:"}})
    conn = dorm.get_connection()
    execute = conn.execute

    def loop() -> None:
        for _ in range(N):
            execute("SELECT 1")

    loop()  # warm up (connection, compile caches)
    results = {"idle": best_per_call(loop), "wrappers": float(len(plugins.kernel.statement_wrappers()))}
    if mode == "plugins":
        from dorm.contrib.nplusone import NPlusOneDetector

        with dorm.budget(max_rows=10):
            results["budget(max_rows)"] = best_per_call(loop)
        with dorm.budget(timeout_ms=1000):
            results["budget(timeout_ms)"] = best_per_call(loop)
        with NPlusOneDetector(threshold=10**9, raise_on_detect=False):
            results["NPlusOneDetector"] = best_per_call(loop)
        cb = dorm.circuit_breaker("overhead")

        def breaker_loop() -> None:
            for _ in range(N):
                with cb:
                    execute("SELECT 1")

        results["with circuit_breaker"] = best_per_call(breaker_loop)
    return results


def main() -> None:
    if len(sys.argv) > 1:
        print(json.dumps(measure(sys.argv[1])))
        return
    out = {}
    for mode, env in (("no plugins", {"DORM_DISABLE_PLUGIN_AUTOLOAD": "1"}), ("plugins", {})):
        environ = {k: v for k, v in os.environ.items() if k != "DORM_DISABLE_PLUGIN_AUTOLOAD"}
        environ.update(env)
        proc = subprocess.run(
            [sys.executable, __file__, "plugins" if mode == "plugins" else "bare"],
            env=environ,
            capture_output=True,
            text=True,
            check=True,
        )
        out[mode] = json.loads(proc.stdout)
    base = out["no plugins"]["idle"]
    print(f"SELECT 1 via get_connection().execute, SQLite :memory:, best of {ROUNDS} x {N}")
    print(f"  autoload disabled          : {base:7.3f} us/statement")
    for name, value in out["plugins"].items():
        if name == "wrappers":
            continue
        label = "installed, idle" if name == "idle" else name
        print(f"  {label:27s}: {value:7.3f} us/statement ({value - base:+.3f})")
    print(f"  statement wrappers registered while idle: {int(out['plugins']['wrappers'])}")


if __name__ == "__main__":
    main()
