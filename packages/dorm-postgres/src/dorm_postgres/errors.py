"""Translate psycopg exceptions into ``dorm.exceptions`` by SQLSTATE.

The driver error always stays as ``__cause__``; the message is the
server's own (primary message, then DETAIL and HINT when present), so
``canceling statement due to statement timeout`` or ``too many clients
already`` reach the user verbatim.
"""

from __future__ import annotations

from typing import Final

import psycopg

from dorm import exceptions as exc

__all__ = ["is_session_terminated", "translate_error"]

#: Exact SQLSTATEs that map differently from their class.
_BY_STATE: Final[dict[str, type[exc.DatabaseError]]] = {
    "57014": exc.QueryCanceledError,  # query_canceled (statement_timeout, pg_cancel_backend)
    "25P02": exc.InternalError,  # in_failed_sql_transaction
    "40001": exc.OperationalError,  # serialization_failure
    "40P01": exc.OperationalError,  # deadlock_detected
    "55P03": exc.OperationalError,  # lock_not_available (NOWAIT)
}

#: SQLSTATE class (first two characters) -> dorm exception.
_BY_CLASS: Final[dict[str, type[exc.DatabaseError]]] = {
    "08": exc.OperationalError,  # connection exception
    "0A": exc.NotSupportedError,  # feature not supported
    "21": exc.ProgrammingError,  # cardinality violation
    "22": exc.DataError,  # data exception
    "23": exc.IntegrityError,  # integrity constraint violation
    "24": exc.InternalError,  # invalid cursor state
    "25": exc.InternalError,  # invalid transaction state
    "26": exc.ProgrammingError,  # invalid SQL statement name
    "28": exc.OperationalError,  # invalid authorization
    "2B": exc.InternalError,
    "2D": exc.InternalError,
    "2F": exc.InternalError,
    "34": exc.ProgrammingError,  # invalid cursor name
    "3D": exc.ProgrammingError,  # invalid catalog name (database does not exist)
    "3F": exc.ProgrammingError,  # invalid schema name
    "40": exc.OperationalError,  # transaction rollback
    "42": exc.ProgrammingError,  # syntax error or access rule violation
    "44": exc.IntegrityError,  # WITH CHECK OPTION violation
    "53": exc.OperationalError,  # insufficient resources (too many connections, disk full)
    "54": exc.OperationalError,  # program limit exceeded
    "55": exc.OperationalError,  # object not in prerequisite state
    "57": exc.OperationalError,  # operator intervention (admin shutdown, cancel)
    "58": exc.OperationalError,  # system error
    "F0": exc.InternalError,
    "HV": exc.OperationalError,
    "P0": exc.InternalError,  # PL/pgSQL raise
    "XX": exc.InternalError,  # internal error
}

#: Without a SQLSTATE (client-side failures) psycopg's own DB-API class decides.
_BY_DRIVER_CLASS: Final[tuple[tuple[type[BaseException], type[exc.DatabaseError]], ...]] = (
    (psycopg.errors.QueryCanceled, exc.QueryCanceledError),
    (psycopg.IntegrityError, exc.IntegrityError),
    (psycopg.DataError, exc.DataError),
    (psycopg.ProgrammingError, exc.ProgrammingError),
    (psycopg.NotSupportedError, exc.NotSupportedError),
    (psycopg.InternalError, exc.InternalError),
    (psycopg.OperationalError, exc.OperationalError),
    (psycopg.InterfaceError, exc.InterfaceError),
)

#: The server ended the session before or while running the statement
#: (pg_terminate_backend, crash recovery, shutdown): nothing it ran is committed.
_SESSION_TERMINATED: Final = frozenset({"57P01", "57P02", "57P03"})


def _message(error: BaseException) -> str:
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if not primary:
        return str(error).strip() or type(error).__name__
    parts = [primary]
    detail = getattr(diag, "message_detail", None)
    if detail:
        parts.append(f"DETAIL: {detail}")
    hint = getattr(diag, "message_hint", None)
    if hint:
        parts.append(f"HINT: {hint}")
    return "\n".join(parts)


def translate_error(error: BaseException) -> exc.DatabaseError:
    """The ``dorm`` exception for a psycopg error; the caller raises it ``from error``."""
    if isinstance(error, exc.DatabaseError):
        return error
    state: str | None = getattr(error, "sqlstate", None)
    cls: type[exc.DatabaseError] | None = None
    if state:
        cls = _BY_STATE.get(state) or _BY_CLASS.get(state[:2])
    if cls is None:
        for driver_cls, dorm_cls in _BY_DRIVER_CLASS:
            if isinstance(error, driver_cls):
                cls = dorm_cls
                break
        else:
            cls = exc.DatabaseError
    translated = cls(_message(error))
    translated.sqlstate = state  # type: ignore[attr-defined]
    return translated


def is_session_terminated(error: BaseException) -> bool:
    """True when the server ended the session, so the statement did not run to a commit."""
    return getattr(error, "sqlstate", None) in _SESSION_TERMINATED
