"""Relations whose reverse names need care: computed, hidden, %(class)s."""

from __future__ import annotations

from models_app import Book

import dorm


def computed_name() -> str:
    return "slots"


class Shelf(dorm.Model):
    name = dorm.CharField(max_length=10)


class Slot(dorm.Model):
    shelf = dorm.ForeignKey(Shelf, on_delete=dorm.CASCADE, related_name=computed_name())


class Hidden(dorm.Model):
    book = dorm.ForeignKey(Book, on_delete=dorm.CASCADE, related_name="+")


class Review(dorm.Model):
    book = dorm.ForeignKey(Book, on_delete=dorm.CASCADE, related_name="%(class)s_set", related_query_name="%(class)ss")
    stars = dorm.IntegerField()


class Scoped(dorm.Model):
    """An abstract parent declaring the manager (as dorm-tenancy does): ``objects`` is typed with the parent."""

    objects = dorm.Manager["Scoped"]()

    class Meta:
        abstract = True


class Customer(Scoped):
    name = dorm.CharField(max_length=10)


class Invoice(Scoped):
    number = dorm.CharField(max_length=10)
    customer = dorm.ForeignKey(Customer, on_delete=dorm.CASCADE)
