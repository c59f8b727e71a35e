"""Models the golden cases query (no errors expected in this file)."""

from __future__ import annotations

from typing import Any

import dorm


class Publisher(dorm.Model):
    name = dorm.CharField(max_length=100)
    founded = dorm.DateField(null=True)


class TimestampedMixin:
    """A non-model mixin: its attributes are not fields, and the plugin stays quiet about them."""

    audit_note: Any = None


class Base(dorm.Model):
    created = dorm.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class Author(TimestampedMixin, Base):
    name = dorm.CharField(max_length=100)
    age = dorm.IntegerField()
    nickname = dorm.CharField(max_length=20, null=True)
    rating = dorm.DecimalField(max_digits=4, decimal_places=2, null=True)
    active = dorm.BooleanField(default=True)
    data = dorm.JSONField(default=dict)
    publisher = dorm.ForeignKey(Publisher, on_delete=dorm.CASCADE, related_name="authors", null=True)


class Tag(dorm.Model):
    code = dorm.CharField(max_length=10, primary_key=True)
    label = dorm.CharField(max_length=50)


class Book(dorm.Model):
    title = dorm.CharField(max_length=100)
    pages = dorm.IntegerField(default=0)
    author = dorm.ForeignKey(Author, on_delete=dorm.CASCADE)
    editor = dorm.ForeignKey("Author", on_delete=dorm.SET_NULL, null=True, related_name="edited")
    tags = dorm.ManyToManyField(Tag, related_name="books")
    published = dorm.DateTimeField(null=True)
