"""Translate ``duckdb`` exceptions into ``dorm.exceptions`` (the driver error stays as ``__cause__``)."""

from __future__ import annotations

from typing import Final

import duckdb

from dorm import exceptions as exc

__all__ = ["DRIVER_ERRORS", "translate_error"]

#: Every exception the driver (or binding a bad value) may raise.
DRIVER_ERRORS: Final = (duckdb.Error, OverflowError)

# Most specific first: the first match of the error's class wins.
_BY_CLASS: Final[tuple[tuple[type[BaseException], type[exc.DatabaseError]], ...]] = (
    (duckdb.ConstraintException, exc.IntegrityError),
    (duckdb.ParserException, exc.ProgrammingError),
    (duckdb.CatalogException, exc.ProgrammingError),
    (duckdb.BinderException, exc.ProgrammingError),
    (duckdb.SyntaxException, exc.ProgrammingError),
    (duckdb.ConversionException, exc.DataError),
    (duckdb.OutOfRangeException, exc.DataError),
    (duckdb.NotImplementedException, exc.NotSupportedError),
)

_HINTS: Final[tuple[tuple[str, str], ...]] = (
    (
        'at or near "SAVEPOINT"',
        " DuckDB has no SAVEPOINT: dorm's atomic() makes nested blocks no-op boundaries on DuckDB "
        "(an error escaping one rolls back the outermost block). Do not issue SAVEPOINT yourself; "
        "use SQLite or PostgreSQL if you need real savepoints.",
    ),
    (
        "Current transaction is aborted",
        " An earlier statement of this transaction failed, and DuckDB keeps the transaction aborted "
        "until it rolls back: let the atomic() block end with the error (it rolls back).",
    ),
    (
        "Conflict on",
        " Two transactions changed the same rows at the same time (DuckDB's optimistic concurrency): "
        "retry the losing transaction, or serialise writers to those rows.",
    ),
)


def translate_error(
    error: BaseException, sql: str | None = None, *, timeout_ms: int | None = None
) -> exc.DatabaseError:
    """The ``dorm`` exception for a driver error; the caller raises it ``from error``.

    ``timeout_ms`` is set when the statement was interrupted by its deadline,
    so the message can name the timeout.
    """
    message = str(error).strip()
    where = f" SQL: {sql[:200]}" if sql else ""
    if isinstance(error, duckdb.InterruptException):
        if timeout_ms is not None:
            return exc.QueryCanceledError(
                f"Statement cancelled: it ran longer than its timeout of {timeout_ms} ms (DuckDB interrupted it).{where}"
            )
        return exc.QueryCanceledError(f"Statement cancelled (DuckDB interrupted it on request).{where}")
    if isinstance(error, OverflowError):
        return exc.DataError(f"{message}. The value does not fit the column's DuckDB type.")
    for needle, hint in _HINTS:
        if needle in message:
            message += hint
            break
    for cls, target in _BY_CLASS:
        if isinstance(error, cls):
            return target(f"{message}{where}")
    return exc.OperationalError(f"{message}{where}")
