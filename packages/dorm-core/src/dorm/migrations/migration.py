"""The ``Migration`` base class every migration file subclasses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from dorm.migrations.operations.base import Operation

__all__ = ["Migration"]


class Migration:
    """One migration file::

        from dorm import migrations

        class Migration(migrations.Migration):
            dependencies = [("blog", "0001_initial")]
            operations = [migrations.AddField("Post", "slug", dorm.SlugField(max_length=80, null=True))]

    ``atomic = False`` runs the operations outside one transaction (each
    operation still gets its own where it can); online operations such as
    ``BackfillBatch`` and ``AddIndexConcurrently`` manage their own.
    """

    dependencies: ClassVar[list[tuple[str, str]]] = []
    operations: ClassVar[list[Operation]] = []
    atomic: ClassVar[bool] = True
    initial: ClassVar[bool] = False

    def __init__(self, name: str, app_label: str, *, path: str | None = None) -> None:
        self.name = name
        self.app_label = app_label
        #: The file it was loaded from (for messages).
        self.path = path
        self.dependencies = [tuple(d) for d in type(self).dependencies]  # type: ignore[misc]
        self.operations = list(type(self).operations)  # type: ignore[misc]

    @property
    def key(self) -> tuple[str, str]:
        return self.app_label, self.name

    @property
    def number(self) -> str:
        return self.name.split("_", 1)[0]

    def __repr__(self) -> str:
        return f"<Migration {self.app_label}.{self.name}>"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Migration) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)
