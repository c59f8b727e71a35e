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
