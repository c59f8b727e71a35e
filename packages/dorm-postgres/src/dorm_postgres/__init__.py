"""dorm-postgres: the PostgreSQL backend of djanorm (``ENGINE: "postgresql"`` or ``"postgres"``).

See :mod:`dorm_postgres.base` for the versions and settings covered; the
backend class is ``dorm_postgres.base.DatabaseWrapper`` (found through the
``djanorm.backends`` entry points, so importing this package loads nothing).
"""

__all__: list[str] = []
__version__ = "2.0.0"
