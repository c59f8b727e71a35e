"""The root `djanorm` meta-distribution builds an empty wheel with the right requirements (slow)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_meta_wheel_is_empty_and_pins_our_distributions(tmp_path: Path) -> None:
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *isolation, "-w", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("djanorm-2.0.0-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = Parser().parsestr(archive.read("djanorm-2.0.0.dist-info/METADATA").decode())
    assert all(name.startswith("djanorm-2.0.0.dist-info/") for name in names), names
    requires = sorted(metadata.get_all("Requires-Dist") or [])
    assert "dorm-core==2.0.0" in requires and "dorm-sqlite==2.0.0" in requires
    assert "dorm-duckdb==2.0.0; extra == 'duckdb'" in requires
    assert sorted(metadata.get_all("Provides-Extra") or []) == [
        "all",
        "duckdb",
        "postgres",
        "postgresql",
        "resilience",
        "tenancy",
    ]
