"""pytest plugin for djanorm, registered through the ``pytest11`` entry point.

Not implemented yet in this version: installing it adds the (still empty)
plugin module to pytest.  Coming: ``transactional_db`` / ``atransactional_db``
(each test in a rolled-back transaction; ``db`` is the same fixture),
``live_db``, a session fixture that creates the test databases and runs
migrations once per xdist worker, ``assert_num_queries``, an N+1 fixture,
pools drained at session end, and the backend conformance suite
(``pytest_djanorm.suite``).
"""

from __future__ import annotations

__all__: list[str] = []
