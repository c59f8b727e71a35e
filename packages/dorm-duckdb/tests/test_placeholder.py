"""dorm-duckdb 2.0.0 is an installable placeholder: ENGINE "duckdb" resolves, then says it is not implemented.

Replace these tests with the backend's own when it lands.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

import dorm
from dorm.backends.base import BaseDatabaseWrapper


def test_registered_as_the_duckdb_backend() -> None:
    (ep,) = [ep for ep in entry_points(group="djanorm.backends") if ep.name == "duckdb"]
    wrapper = ep.load()
    assert issubclass(wrapper, BaseDatabaseWrapper)
    assert wrapper.__module__ == "dorm_duckdb.base"


def test_engine_duckdb_says_it_is_not_implemented_yet(tmp_path: Path) -> None:
    dorm.configure(DATABASES={"default": {"ENGINE": "duckdb", "NAME": str(tmp_path / "w.duckdb")}})
    try:
        with pytest.raises(dorm.ImproperlyConfigured, match="the DuckDB backend is not implemented yet in this version"):
            dorm.get_connection().execute("SELECT 1")
    finally:
        dorm.conf.settings.reset()
