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


def _default_owner() -> int | None:
    return None


class Owner(dorm.Model):
    name = dorm.CharField(max_length=20)

    class Meta:
        app_label = "queries"


class Pet(dorm.Model):
    """One FK per on_delete rule."""

    name = dorm.CharField(max_length=20)
    restricted = dorm.ForeignKey(Owner, on_delete=dorm.RESTRICT, null=True, related_name="restricted_pets")
    defaulted = dorm.ForeignKey(
        Owner, on_delete=dorm.SET_DEFAULT, null=True, default=None, related_name="defaulted_pets"
    )
    setter = dorm.ForeignKey(Owner, on_delete=dorm.SET(_default_owner), null=True, related_name="set_pets")
    ignored = dorm.IntegerField(null=True)

    class Meta:
        app_label = "queries"


class Stamped(dorm.Model):
    name = dorm.CharField(max_length=20)
    created = dorm.DateTimeField(auto_now_add=True)
    updated = dorm.DateTimeField(auto_now=True)

    class Meta:
        app_label = "queries"


class AdultQuerySet(dorm.QuerySet):  # type: ignore[type-arg]
    def adults(self) -> AdultQuerySet:
        return self.filter(age__gte=18)  # type: ignore[return-value]


class Person(dorm.Model):
    name = dorm.CharField(max_length=20)
    age = dorm.IntegerField(default=0)

    objects = dorm.Manager.from_queryset(AdultQuerySet)()

    class Meta:
        app_label = "queries"


class Counter(dorm.Model):
    name = dorm.CharField(max_length=20)
    hits = dorm.IntegerField(db_default=7)

    class Meta:
        app_label = "queries"
