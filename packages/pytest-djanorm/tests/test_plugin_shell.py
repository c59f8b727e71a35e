"""pytest-djanorm registers its plugin through the pytest11 entry point (no conftest needed)."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest


def test_registered_with_pytest(pytestconfig: pytest.Config) -> None:
    (ep,) = [ep for ep in entry_points(group="pytest11") if ep.name == "djanorm"]
    assert ep.value == "pytest_djanorm.plugin"
    plugin = pytestconfig.pluginmanager.get_plugin("djanorm")
    assert plugin is not None and plugin.__name__ == "pytest_djanorm.plugin"
