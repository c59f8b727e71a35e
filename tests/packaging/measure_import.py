"""Measure ``import dorm`` in fresh interpreters (used by ``nox -s import_time``).

Prints the best and median of N runs of the import itself, the whole
``python -c "import dorm"`` process against ``python -c "pass"``, and
the slowest modules from ``-X importtime``.  Usage: ``measure_import.py [N]``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

TARGET_MS = 150.0


def import_ms() -> float:
    code = "import time; t = time.perf_counter(); import dorm; print((time.perf_counter() - t) * 1000)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def process_ms(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return (time.perf_counter() - start) * 1000


def slowest_modules(limit: int = 8) -> list[str]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import dorm"], capture_output=True, text=True)
    rows = []
    for line in done.stderr.splitlines()[1:]:  # "import time: <self us> | <cumulative us> | <module>"
        _, cumulative_us, name = line.split("|")
        rows.append((int(cumulative_us), name.strip()))
    return [f"{us / 1000:7.2f} ms  {name}" for us, name in sorted(rows, reverse=True)[:limit]]


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    imports = [import_ms() for _ in range(runs)]
    whole = [process_ms("import dorm") for _ in range(runs)]
    bare = [process_ms("pass") for _ in range(runs)]
    from importlib.metadata import distributions

    ours = sorted(
        f"{d.metadata['Name']}=={d.version}"
        for d in distributions()
        if d.metadata["Name"].startswith(("dorm", "djanorm", "pytest-djanorm"))
    )
    print(f"installed: {', '.join(ours)}")
    print(f"import dorm: best {min(imports):.1f} ms, median {statistics.median(imports):.1f} ms ({runs} runs)")
    print(
        f'python -c "import dorm": best {min(whole):.1f} ms; python -c "pass": best {min(bare):.1f} ms '
        f"(difference {min(whole) - min(bare):.1f} ms)"
    )
    print("slowest imports (cumulative):")
    print("\n".join(slowest_modules()))
    verdict = "within" if min(imports) <= TARGET_MS else "OVER"
    print(f"target {TARGET_MS:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
