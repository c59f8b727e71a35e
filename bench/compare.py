#!/usr/bin/env python
"""djanorm vs the raw driver, Django, SQLAlchemy and Tortoise on the same scenarios and data.

    python bench/compare.py [--backend sqlite|postgresql|all] [--quick] [--json out.json] [--markdown out.md]
                            [--only SCENARIO] [--skip-install] [--libraries django,sqlalchemy,tortoise]

Each competitor runs in its own virtualenv under ``bench/.venvs/<name>``
(created here with pip from ``bench/requirements/<name>.txt`` when missing;
never a dependency of our packages).  The raw floor and djanorm run in the
interpreter running this script (the dev environment, with djanorm
installed).  Libraries run one after the other, never concurrently, each
creating the same deterministic data set.  See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import venv
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from common import (  # noqa: E402
    BACKENDS,
    DESCRIPTIONS,
    READ_SCENARIOS,
    SCENARIOS,
    dump_json,
    fmt_us,
    median_of,
    render_table,
    status_of,
)

COMPETITORS = ("django", "sqlalchemy", "tortoise")
COLUMNS = ("raw", "djanorm", *COMPETITORS)
VENVS = os.path.join(HERE, ".venvs")


def venv_python(name: str) -> str:
    return os.path.join(VENVS, name, "bin", "python")


def ensure_venv(name: str, log: Any) -> str:
    """Create ``bench/.venvs/<name>`` with its pinned requirements unless it exists already."""
    python = venv_python(name)
    marker = os.path.join(VENVS, name, ".bench-installed")
    requirements = os.path.join(HERE, "requirements", f"{name}.txt")
    if os.path.exists(marker):
        return python
    log(f"creating {os.path.relpath(os.path.join(VENVS, name))} from {os.path.relpath(requirements)} ...")
    venv.EnvBuilder(with_pip=True, clear=False).create(os.path.join(VENVS, name))
    subprocess.run([python, "-m", "pip", "install", "--quiet", "-r", requirements], check=True)
    with open(marker, "w", encoding="utf-8") as fh:
        fh.write("ok\n")
    return python


def run_json(cmd: list[str], label: str, log: Any) -> dict[str, Any]:
    log(f"$ {' '.join(os.path.relpath(c) if os.path.isabs(c) else c for c in cmd)}")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    try:
        return json.loads(proc.stdout)
    except ValueError:
        return {"results": {}, "error": f"{label} exited {proc.returncode} without JSON output"}


def merge(payloads: dict[str, dict[str, Any]], backends: list[str]) -> dict[str, Any]:
    merged: dict[str, Any] = {"env": None, "versions": {}, "results": {b: {} for b in backends}}
    for label, payload in payloads.items():
        merged["env"] = merged["env"] or payload.get("env")
        merged["versions"].update(payload.get("versions", {}))
        for backend in backends:
            per_lib = payload.get("results", {}).get(backend)
            if per_lib is None:
                why = payload.get("error", "no result")
                libs = ("raw", "djanorm") if label == "djanorm" else (label,)
                for lib in libs:
                    merged["results"][backend][lib] = {"error": why}
            else:
                merged["results"][backend].update(per_lib)
    return merged


def comparison_table(merged: dict[str, Any], backend: str, stat: str = "median_us") -> str:
    libs = merged["results"].get(backend, {})
    notes = [f"- {lib}: {status_of(libs.get(lib))}" for lib in COLUMNS if status_of(libs.get(lib))]
    rows = []
    for sc in SCENARIOS:
        values = {lib: median_of(libs.get(lib), sc, stat) for lib in COLUMNS}
        if all(v is None for v in values.values()):
            continue
        raw, ours = values["raw"], values["djanorm"]
        ratio = f"{ours / raw:.2f}x" if raw and ours else "-"
        others = [v for lib, v in values.items() if lib in COMPETITORS and v is not None]
        flags = []
        if raw and ours and sc in READ_SCENARIOS and ours > 2 * raw:
            flags.append(">2x raw")
        if ours and others and ours > min(others):
            beaten_by = [lib for lib in COMPETITORS if values[lib] is not None and values[lib] < ours]
            flags.append("slower than " + "/".join(beaten_by))
        rows.append([sc, *(fmt_us(values[lib]) for lib in COLUMNS), ratio, "; ".join(flags)])
    label = "median" if stat == "median_us" else "best repeat"
    out = [f"### {backend} (µs per operation, {label}; lower is better)"]
    if rows:
        out.append(render_table(["scenario", *COLUMNS, "djanorm/raw", "flags"], rows, frozenset({0, len(COLUMNS) + 2})))
    out.extend(notes)
    return "\n".join(out)


def report(merged: dict[str, Any], quick: bool, stat: str = "median_us") -> str:
    env = merged.get("env") or {}
    versions = ", ".join(f"{k} {v}" for k, v in sorted(merged.get("versions", {}).items()))
    head = (
        f"Benchmark {env.get('date', '?')}: Python {env.get('python', '?')}, {env.get('cpus', '?')} CPUs, "
        f"SQLite {env.get('sqlite', '?')}; {versions}"
        + (" — QUICK run (smoke test, not a measurement)" if quick else "")
    )
    parts = [head]
    for backend in merged["results"]:
        parts.append("")
        parts.append(comparison_table(merged, backend, stat))
    parts.append("")
    parts.append("Scenarios: " + "; ".join(f"`{k}` = {v}" for k, v in DESCRIPTIONS.items()) + ".")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="all")
    parser.add_argument("--quick", action="store_true", help="smoke test: few iterations")
    parser.add_argument("--json", metavar="PATH", help="write the merged results as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="write the report (tables) as Markdown")
    parser.add_argument("--only", metavar="SCENARIO", action="append", choices=SCENARIOS)
    parser.add_argument(
        "--skip-install", action="store_true", help="use the existing venvs; skip a competitor whose venv is missing"
    )
    parser.add_argument(
        "--libraries", default=",".join(COMPETITORS), help="comma-separated competitors to run (default: all three)"
    )
    parser.add_argument(
        "--stat",
        choices=["median", "min"],
        default="median",
        help="which repeat to show: the median (default) or the best one (steadier on a busy machine)",
    )
    parser.add_argument("--from-json", metavar="PATH", help="only render the tables of a saved --json run")
    args = parser.parse_args(argv)
    stat = f"{args.stat}_us"
    if args.from_json:
        with open(args.from_json, encoding="utf-8") as fh:
            saved = json.load(fh)
        print(report(saved, bool(saved.get("quick")), stat))
        return 0

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    common_flags = ["--backend", args.backend, "--json", "-"]
    if args.quick:
        common_flags.append("--quick")
    for sc in args.only or []:
        common_flags += ["--only", sc]
    backends = list(BACKENDS) if args.backend == "all" else [args.backend]

    payloads: dict[str, dict[str, Any]] = {}
    payloads["djanorm"] = run_json([sys.executable, os.path.join(HERE, "run.py"), *common_flags], "run.py", log)
    for name in [n.strip() for n in args.libraries.split(",") if n.strip()]:
        if name not in COMPETITORS:
            parser.error(f"unknown competitor {name!r}; choose from {', '.join(COMPETITORS)}")
        if args.skip_install and not os.path.exists(venv_python(name)):
            payloads[name] = {"results": {}, "error": f"bench/.venvs/{name} missing (--skip-install)"}
            continue
        try:
            python = ensure_venv(name, log)
        except (subprocess.CalledProcessError, OSError) as exc:
            payloads[name] = {"results": {}, "error": f"could not create bench/.venvs/{name}: {exc}"}
            continue
        script = os.path.join(HERE, "competitors", f"{name}_bench.py")
        payloads[name] = run_json([python, script, *common_flags], name, log)

    merged = merge(payloads, backends)
    merged["quick"] = args.quick
    text = report(merged, args.quick, stat)
    print(text)
    if args.json:
        dump_json(merged, args.json)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
