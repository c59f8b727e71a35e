"""pytest-djanorm: pytest fixtures for djanorm and the backend conformance suite.

Installing the distribution is enough: the ``pytest11`` entry point
``djanorm = "pytest_djanorm.plugin"`` registers the fixtures
(``transactional_db``, ``db``, ``atransactional_db``, ``live_db``,
``djanorm_settings``, ``djanorm_setup_databases``, ``assert_num_queries``,
``nplusone``).  A backend runs the conformance suite with
``from pytest_djanorm.suite import *`` in its ``tests/test_suite.py``.
See ``docs/testing.md``.
"""

from __future__ import annotations

from pytest_djanorm.queries import QueryCapture, assert_num_queries, capture_queries

__all__ = ["QueryCapture", "assert_num_queries", "capture_queries"]
