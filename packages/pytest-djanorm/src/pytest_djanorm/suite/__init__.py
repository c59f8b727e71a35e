"""The backend conformance suite: a third-party backend runs it against itself.

``tests/test_suite.py`` of the backend's distribution::

    import pytest

    from pytest_djanorm.suite import *  # noqa: F403


    @pytest.fixture(scope="session")
    def djanorm_settings():
        return {"DATABASES": {"default": {"ENGINE": "mybackend", "NAME": "suite"}}}

The suite creates its test database from those settings (``test_`` prefix,
one per xdist worker), its own tables (``djanorm_suite_*``), and runs on the
``default`` alias.  Tests whose capability the backend lacks skip with the
name of the :class:`Requirements` property; override the ``requirements``
fixture to return a subclass that states what ``features`` does not.
"""

from __future__ import annotations

from pytest_djanorm.suite.fixtures import (
    djanorm_suite_alias,
    require,
    requirements,
    suite_databases,
    suite_db,
    suite_schema,
)
from pytest_djanorm.suite.orm import (
    TestSuiteAggregation,
    TestSuiteBulk,
    TestSuiteCRUD,
    TestSuiteIteration,
    TestSuiteLookups,
    TestSuiteRelations,
)
from pytest_djanorm.suite.raw import TestSuiteConstraintsAndTimeouts, TestSuiteRawSQL
from pytest_djanorm.suite.requirements import Requirements
from pytest_djanorm.suite.schema import TestSuiteSchema
from pytest_djanorm.suite.transactions import TestSuiteLocking, TestSuiteTransactions

__all__ = [
    "Requirements",
    "TestSuiteAggregation",
    "TestSuiteBulk",
    "TestSuiteConstraintsAndTimeouts",
    "TestSuiteCRUD",
    "TestSuiteIteration",
    "TestSuiteLocking",
    "TestSuiteLookups",
    "TestSuiteRawSQL",
    "TestSuiteRelations",
    "TestSuiteSchema",
    "TestSuiteTransactions",
    "djanorm_suite_alias",
    "require",
    "requirements",
    "suite_databases",
    "suite_db",
    "suite_schema",
]
