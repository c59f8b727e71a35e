"""SQL functions SQLite lacks, registered on every connection in one place.

``REGEXP`` backs the ``regex`` / ``iregex`` lookups (``x REGEXP pattern``
calls ``regexp(pattern, x)``).  Compiled patterns are cached.
"""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache
from typing import Any

__all__ = ["register_functions"]


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _regexp(pattern: str | None, value: Any) -> bool | None:
    if pattern is None or value is None:
        return None
    return _compile(pattern).search(str(value)) is not None


def register_functions(raw: sqlite3.Connection) -> None:
    """Install the functions the ORM's SQL may use."""
    raw.create_function("REGEXP", 2, _regexp, deterministic=True)
