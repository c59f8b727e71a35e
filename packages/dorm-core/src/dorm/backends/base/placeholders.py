"""``%s`` placeholders in the style a driver wants, converted once per SQL text.

The core's SQL and users' ``raw()`` SQL write parameters as ``%s`` and a
literal percent as ``%%`` (the DB-API ``format`` style).  A driver with
another paramstyle gets the text converted here: ``?`` (``qmark``: sqlite3,
duckdb) or ``$1, $2 ...`` (PostgreSQL's own numbering, for psycopg's raw
cursors).  Each conversion is cached per text, in a bounded cache so that
one-off generated SQL cannot pile up.  SQL run without parameters is never
converted (drivers send it as written).
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["to_numbered", "to_qmark"]

_CACHE_LIMIT: Final = 1024
_FORMAT_TOKEN: Final = re.compile(r"%[s%]")

_qmark: dict[str, str] = {}
_numbered: dict[str, str | None] = {}


def to_qmark(sql: str) -> str:
    """``%s`` -> ``?`` and ``%%`` -> ``%``."""
    converted = _qmark.get(sql)
    if converted is None:
        converted = _FORMAT_TOKEN.sub(_token_to_qmark, sql) if "%" in sql else sql
        _remember(_qmark, sql, converted)
    return converted


def to_numbered(sql: str) -> str | None:
    """``%s`` -> ``$1, $2 ...`` and ``%%`` -> ``%``; None when the text holds another ``%`` form
    (``%(name)s``, ``%b``, a lone ``%``), which is then left to the driver's own parser."""
    found = _numbered.get(sql, _numbered)
    if found is not _numbered:
        return found  # type: ignore[return-value]
    converted = _number(sql)
    _remember(_numbered, sql, converted)
    return converted


def _remember(cache: dict[str, str | None] | dict[str, str], sql: str, converted: str | None) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[sql] = converted  # type: ignore[assignment]


def _token_to_qmark(match: re.Match[str]) -> str:
    return "?" if match.group() == "%s" else "%"


def _number(sql: str) -> str | None:
    parts = sql.split("%")
    if len(parts) == 1:
        return sql
    out = [parts[0]]
    number = 0
    i = 1
    last = len(parts)
    while i < last:
        part = parts[i]
        if part[:1] == "s":
            number += 1
            out.append(f"${number}")
            out.append(part[1:])
            i += 1
        elif part == "" and i + 1 < last:
            # "%%": split() left an empty part between the two signs; the next part is plain text
            out.append("%")
            out.append(parts[i + 1])
            i += 2
        else:
            return None
    return "".join(out)
