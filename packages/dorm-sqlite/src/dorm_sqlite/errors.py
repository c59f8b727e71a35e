"""Translate ``sqlite3`` exceptions into ``dorm.exceptions`` (the driver error stays as ``__cause__``)."""

from __future__ import annotations

import sqlite3
from typing import Final

from dorm import exceptions as exc

__all__ = ["translate_error"]

# Result codes (primary code in the low byte) from sqlite3.h.
_SQLITE_ERROR: Final = 1
_SQLITE_BUSY: Final = 5
_SQLITE_LOCKED: Final = 6
_SQLITE_INTERRUPT: Final = 9

_BY_CLASS: Final[dict[type[BaseException], type[exc.DatabaseError]]] = {
    sqlite3.IntegrityError: exc.IntegrityError,
    sqlite3.ProgrammingError: exc.ProgrammingError,
    sqlite3.DataError: exc.DataError,
    sqlite3.NotSupportedError: exc.NotSupportedError,
    sqlite3.InternalError: exc.InternalError,
    sqlite3.InterfaceError: exc.InterfaceError,
    sqlite3.OperationalError: exc.OperationalError,
    sqlite3.DatabaseError: exc.DatabaseError,
}


def translate_error(
    error: BaseException, sql: str | None = None, *, timeout_ms: int | None = None, busy_timeout: float | None = None
) -> exc.DatabaseError:
    """The ``dorm`` exception for a driver error; the caller raises it ``from error``.

    ``timeout_ms`` is set when the statement was interrupted by its deadline,
    so the message can name the timeout.
    """
    message = str(error)
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    where = f" SQL: {sql[:200]}" if sql else ""
    if isinstance(error, OverflowError):
        return exc.DataError(f"{message}. SQLite integers are 64-bit signed; store bigger numbers as text or Decimal.")
    if isinstance(error, sqlite3.OperationalError):
        if primary == _SQLITE_INTERRUPT or message == "interrupted":
            if timeout_ms is not None:
                return exc.QueryCanceledError(
                    f"Statement cancelled: it ran longer than its timeout of {timeout_ms} ms "
                    f"(SQLite interrupted it).{where}"
                )
            return exc.QueryCanceledError(f"Statement cancelled (SQLite interrupted it on request).{where}")
        if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
            waited = f"{busy_timeout:g} s" if busy_timeout is not None else "the busy timeout"
            return exc.OperationalError(
                f"{message}: another connection held the lock for longer than {waited}. "
                "Keep write transactions short, or raise DATABASES[...]['OPTIONS']['timeout'] (seconds)."
            )
        if primary == _SQLITE_ERROR:
            # Generic "SQL error": syntax errors, missing tables or columns, misuse.
            return exc.ProgrammingError(f"{message}.{where}")
        return exc.OperationalError(message)
    for cls in type(error).__mro__:
        target = _BY_CLASS.get(cls)
        if target is not None:
            return target(message)
    return exc.DatabaseError(message)
