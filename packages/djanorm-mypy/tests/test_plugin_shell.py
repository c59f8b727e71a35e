"""The entry point: mypy loads the plugin, and mypy's own checks still run with it configured."""

from __future__ import annotations

from pathlib import Path

from mypy import api
from mypy.plugin import Plugin

from djanorm_mypy import plugin


def test_entry_returns_a_mypy_plugin_class() -> None:
    cls = plugin("1.10.0")
    assert isinstance(cls, type) and issubclass(cls, Plugin)


def test_mypy_runs_with_the_plugin_configured(tmp_path: Path) -> None:
    (tmp_path / "mypy.ini").write_text("[mypy]\nplugins = djanorm_mypy\n")
    (tmp_path / "ok.py").write_text("x: int = 1\n")
    (tmp_path / "bad.py").write_text("y: int = 'not an int'\n")
    config = ["--config-file", str(tmp_path / "mypy.ini"), "--no-incremental", "--cache-dir", str(tmp_path / ".c")]
    out, err, status = api.run([*config, str(tmp_path / "ok.py")])
    assert status == 0, out + err
    out, err, status = api.run([*config, str(tmp_path / "bad.py")])
    assert status == 1 and "Incompatible types in assignment" in out  # mypy still checks with the plugin loaded
