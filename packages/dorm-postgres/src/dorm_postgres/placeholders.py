"""``%s`` placeholders to PostgreSQL's own ``$1, $2 ...``, once per SQL text.

The core (and users' ``raw()`` SQL) write parameters as ``%s`` and a literal
percent as ``%%``, psycopg's default style.  psycopg parses that style on
every execution; it caches the parse only for statements under 4 KB with at
most 50 parameters, so a 1,000-row ``bulk_create`` (thousands of
placeholders) was parsed by a regular expression every time, which cost
more than sending the rows.

Here the text is converted once, cached, and run on psycopg's raw cursors,
which send ``$n`` SQL to the server as is.  Text with any other ``%`` form
(``%(name)s``, ``%b``, a lone ``%``) is left to psycopg's parser.
"""

from __future__ import annotations

from typing import Final

__all__ = ["native"]

#: converted texts (None: not convertible); bounded, so generated one-off SQL cannot pile up
_cache: dict[str, str | None] = {}
_CACHE_LIMIT: Final = 1024


def native(sql: str) -> str | None:
    """``sql`` with ``%s`` -> ``$1, $2 ...`` and ``%%`` -> ``%``; None when it holds another ``%`` form."""
    found = _cache.get(sql, _cache)
    if found is not _cache:
        return found  # type: ignore[return-value]
    converted = _convert(sql)
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()
    _cache[sql] = converted
    return converted


def _convert(sql: str) -> str | None:
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
