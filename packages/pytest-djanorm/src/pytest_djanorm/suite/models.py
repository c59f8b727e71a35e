"""The suite's models (app label ``djanorm_suite``; tables ``djanorm_suite_*``)."""

from __future__ import annotations

import dorm

__all__ = ["SUITE_MODELS", "AllTypes", "Author", "Book", "Tag"]


class AllTypes(dorm.Model):
    """One column per core field type."""

    char = dorm.CharField(max_length=50, default="")
    text = dorm.TextField(default="")
    integer = dorm.IntegerField(default=0)
    big = dorm.BigIntegerField(default=0)
    small = dorm.SmallIntegerField(default=0)
    positive = dorm.PositiveIntegerField(default=0)
    floating = dorm.FloatField(default=0.0)
    decimal = dorm.DecimalField(max_digits=12, decimal_places=3, null=True)
    boolean = dorm.BooleanField(default=False)
    day = dorm.DateField(null=True)
    moment = dorm.DateTimeField(null=True)
    clock = dorm.TimeField(null=True)
    duration = dorm.DurationField(null=True)
    uuid = dorm.UUIDField(null=True)
    data = dorm.JSONField(null=True)
    blob = dorm.BinaryField(null=True)
    email = dorm.EmailField(max_length=100, default="a@example.com")
    slug = dorm.SlugField(max_length=50, default="s")
    url = dorm.URLField(max_length=200, default="https://example.com")
    ip = dorm.GenericIPAddressField(null=True)

    class Meta:
        app_label = "djanorm_suite"
        db_table = "djanorm_suite_alltypes"


class Author(dorm.Model):
    name = dorm.CharField(max_length=50, unique=True)
    age = dorm.IntegerField(default=0)

    class Meta:
        app_label = "djanorm_suite"
        db_table = "djanorm_suite_author"


class Tag(dorm.Model):
    label = dorm.CharField(max_length=30)

    class Meta:
        app_label = "djanorm_suite"
        db_table = "djanorm_suite_tag"


class Book(dorm.Model):
    title = dorm.CharField(max_length=100)
    pages = dorm.IntegerField(default=0)
    author = dorm.ForeignKey(Author, on_delete=dorm.CASCADE, related_name="books")
    tags = dorm.ManyToManyField(Tag, related_name="books")

    class Meta:
        app_label = "djanorm_suite"
        db_table = "djanorm_suite_book"


SUITE_MODELS = (AllTypes, Author, Tag, Book)
