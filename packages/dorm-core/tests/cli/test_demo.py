"""examples/demo.py runs end to end (its migrations step drives dorm.cli.main)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[4] / "examples" / "demo.py"


def test_demo_runs(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(DEMO)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Apply shop.0001_initial... OK" in result.stdout
    assert "books after 1970: ['Neuromancer']" in result.stdout
    assert result.stdout.rstrip().endswith("demo finished")
