"""Introspection of the live schema, used by ``dorm dbcheck`` and ``dorm inspectdb``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dorm.backends.base.base import BaseDatabaseWrapper

__all__ = ["BaseDatabaseIntrospection"]


class BaseDatabaseIntrospection:
    def __init__(self, wrapper: BaseDatabaseWrapper) -> None:
        self.wrapper = wrapper
