"""dorm-tenancy 2.0.0 registers its plugin module; it has no hooks yet, so it changes nothing."""

from __future__ import annotations

from importlib.metadata import entry_points

import dorm
from dorm import plugins


def test_plugin_entry_point_loads_and_implements_nothing() -> None:
    (ep,) = [ep for ep in entry_points(group="djanorm.plugins") if ep.name == "tenancy"]
    module = ep.load()
    assert module.__name__ == "dorm_tenancy.plugin"
    kernel = plugins.Kernel(autoload=False)
    kernel.register(module, name="tenancy")
    assert kernel.pm.get_plugin("tenancy") is module
    for hook in ("dorm_query_pre_compile", "dorm_pre_save", "dorm_public_names", "dorm_statement"):
        assert not kernel.implemented(hook)


def test_tenant_names_are_not_exported_yet() -> None:
    kernel = plugins.Kernel(autoload=False)
    previous = kernel.activate()
    try:
        kernel.register(__import__("dorm_tenancy.plugin", fromlist=["_"]), name="tenancy")
        try:
            dorm.TenantModel  # noqa: B018
        except dorm.MissingPluginError as exc:
            assert "djanorm[tenancy]" in str(exc)
        else:  # pragma: no cover - the real plugin exports it
            raise AssertionError("dorm.TenantModel should not exist before the tenancy plugin exports it")
    finally:
        previous.activate()
