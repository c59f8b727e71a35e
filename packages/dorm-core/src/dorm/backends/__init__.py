"""Backend SPI.  A backend is one :class:`~dorm.backends.base.BaseDatabaseWrapper`
subclass composed of small parts (features, operations, compiler, schema
editor, introspection), registered under the ``djanorm.backends`` entry
point group.  See ``docs/backends.md``."""
