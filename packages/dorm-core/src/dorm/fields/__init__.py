"""Every model field, the ``on_delete`` behaviours and ``NOT_PROVIDED``.

Fields are generic descriptors (``Field[T]``): ``name = dorm.CharField(max_length=50)``
makes ``instance.name`` a ``str`` for type checkers.
"""

from __future__ import annotations

from dorm.fields.base import NOT_PROVIDED, DeferredAttribute, Field, NotProvided, RegisterLookupMixin
from dorm.fields.misc import BinaryField, GenericIPAddressField, JSONField, UUIDField
from dorm.fields.numeric import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    DecimalField,
    FloatField,
    IntegerField,
    PositiveBigIntegerField,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    SmallAutoField,
    SmallIntegerField,
)
from dorm.fields.related import (
    CASCADE,
    DO_NOTHING,
    PROTECT,
    RESTRICT,
    SET,
    SET_DEFAULT,
    SET_NULL,
    ForeignKey,
    ForeignObjectRel,
    ManyToManyField,
    ManyToManyRel,
    ManyToOneRel,
    OnDelete,
    OneToOneField,
    OneToOneRel,
    RelatedField,
)
from dorm.fields.temporal import DateField, DateTimeField, DurationField, TimeField
from dorm.fields.text import CharField, EmailField, SlugField, TextField, URLField

__all__ = [
    "CASCADE",
    "DO_NOTHING",
    "NOT_PROVIDED",
    "PROTECT",
    "RESTRICT",
    "SET",
    "SET_DEFAULT",
    "SET_NULL",
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BinaryField",
    "BooleanField",
    "CharField",
    "DateField",
    "DateTimeField",
    "DecimalField",
    "DeferredAttribute",
    "DurationField",
    "EmailField",
    "Field",
    "FloatField",
    "ForeignKey",
    "ForeignObjectRel",
    "GenericIPAddressField",
    "IntegerField",
    "JSONField",
    "ManyToManyField",
    "ManyToManyRel",
    "ManyToOneRel",
    "NotProvided",
    "OnDelete",
    "OneToOneField",
    "OneToOneRel",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "RegisterLookupMixin",
    "RelatedField",
    "SlugField",
    "SmallAutoField",
    "SmallIntegerField",
    "TextField",
    "TimeField",
    "URLField",
    "UUIDField",
]
