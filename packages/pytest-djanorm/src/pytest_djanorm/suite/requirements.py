"""``Requirements``: what the backend under test can do, as properties the suite's tests check.

Every property defaults to the backend's ``features`` (so a backend whose
features are honest needs nothing more); a backend overrides a property to
state a capability its features do not describe, or to turn a test group off
while it is being implemented::

    class Requirements(pytest_djanorm.suite.Requirements):
        @property
        def regex(self) -> bool:
            return False
"""

from __future__ import annotations

from typing import Any

__all__ = ["Requirements"]


class Requirements:
    """Capability properties of the alias under test (derived from ``connections[alias].features``)."""

    def __init__(self, alias: str = "default") -> None:
        self.alias = alias

    @property
    def features(self) -> Any:
        from dorm.db.connections import connections

        return connections[self.alias].features

    def _feature(self, name: str, default: bool = False) -> bool:
        return bool(getattr(self.features, name, default))

    @property
    def savepoints(self) -> bool:
        """Nested ``atomic()`` blocks are real savepoints (else: no-op boundaries)."""
        return self._feature("supports_savepoints")

    @property
    def returning(self) -> bool:
        """``INSERT ... RETURNING`` (bulk_create sets primary keys)."""
        return self._feature("supports_returning") or self._feature("can_return_rows_from_bulk_insert")

    @property
    def ignore_conflicts(self) -> bool:
        return self._feature("supports_ignore_conflicts")

    @property
    def select_for_update(self) -> bool:
        return self._feature("supports_select_for_update")

    @property
    def select_for_update_nowait(self) -> bool:
        return self._feature("supports_select_for_update_nowait")

    @property
    def statement_timeout(self) -> bool:
        return self._feature("supports_statement_timeout")

    @property
    def server_side_cursors(self) -> bool:
        return self._feature("supports_server_side_cursors")

    @property
    def transactional_ddl(self) -> bool:
        """DDL inside a transaction rolls back with it."""
        return self._feature("supports_transactional_ddl")

    @property
    def regex(self) -> bool:
        """``__regex`` / ``__iregex`` lookups."""
        return self._feature("supports_regex")

    @property
    def foreign_keys(self) -> bool:
        """Foreign keys are enforced by the database."""
        return self._feature("supports_foreign_keys")

    @property
    def json_field(self) -> bool:
        return self._feature("supports_json_field", True)

    @property
    def timezones(self) -> bool:
        """Aware datetimes are stored with their offset (else as UTC)."""
        return self._feature("supports_timezones")

    @property
    def threads(self) -> bool:
        """Several threads may use the alias at once."""
        return self._feature("supports_threads", True)

    @property
    def introspection(self) -> bool:
        """``introspection.table_names()`` is implemented."""
        from dorm.backends.base.introspection import BaseDatabaseIntrospection
        from dorm.db.connections import connections

        intro = connections[self.alias].introspection
        return type(intro).table_names is not BaseDatabaseIntrospection.table_names

    @property
    def async_io(self) -> bool:
        """The ``a*`` methods work (``aacquire``)."""
        return True

    def __repr__(self) -> str:
        names = [n for n in dir(type(self)) if isinstance(getattr(type(self), n), property) and n != "features"]
        return "Requirements(" + ", ".join(f"{n}={getattr(self, n)}" for n in names) + ")"
