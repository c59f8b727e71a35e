"""dorm-sqlite: the SQLite backend of djanorm (``ENGINE: "sqlite"``).

See :mod:`dorm_sqlite.base` for the SQLite versions and quirks covered.
"""

from dorm_sqlite.base import DatabaseWrapper

__all__ = ["DatabaseWrapper"]
__version__ = "2.0.0"
