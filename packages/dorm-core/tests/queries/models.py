"""Models used by the query-engine tests (app_label ``queries``)."""

from __future__ import annotations

import dorm


class Publisher(dorm.Model):
    name = dorm.CharField(max_length=60)

    class Meta:
        app_label = "queries"


class Author(dorm.Model):
    name = dorm.CharField(max_length=60)
    age = dorm.IntegerField(null=True)
    email = dorm.EmailField(max_length=100, null=True)
    publisher = dorm.ForeignKey(Publisher, on_delete=dorm.SET_NULL, null=True, related_name="authors")

    class Meta:
        app_label = "queries"


class Tag(dorm.Model):
    name = dorm.CharField(max_length=30, unique=True)

    class Meta:
        app_label = "queries"


class Book(dorm.Model):
    title = dorm.CharField(max_length=100)
    pages = dorm.IntegerField(default=100)
    published = dorm.DateField(null=True)
    author = dorm.ForeignKey(Author, on_delete=dorm.CASCADE, related_name="books")
    tags = dorm.ManyToManyField(Tag, related_name="books")

    class Meta:
        app_label = "queries"


class Review(dorm.Model):
    book = dorm.ForeignKey(Book, on_delete=dorm.PROTECT, related_name="reviews")
    stars = dorm.IntegerField()

    class Meta:
        app_label = "queries"


class Row(dorm.Model):
    """The differential-test fixture: a few typed, nullable columns."""

    a = dorm.IntegerField(null=True)
    b = dorm.IntegerField(null=True)
    s = dorm.CharField(max_length=20, null=True)

    class Meta:
        app_label = "queries"


class Frozen(dorm.Model):
    name = dorm.CharField(max_length=20)

    class Meta:
        app_label = "queries"
        read_only = True


class Stream(dorm.AsyncModel):
    name = dorm.CharField(max_length=20)

    class Meta:
        app_label = "queries"


ALL = (Publisher, Author, Tag, Book, Review)
