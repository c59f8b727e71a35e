"""Unusual code: the plugin stays quiet (or mypy's own errors stand alone) and never crashes."""

# fmt: off

from typing import Any

from models_app import Author

import dorm


class AuthorQuerySet(dorm.QuerySet[Author]):
    def adults(self) -> dorm.QuerySet[Author]:
        return self.filter(age__gte=18)


def anything(qs: Any, m: type[Any]) -> None:
    qs.filter(naem="x")  # Any receiver: nothing to check
    m.objects.filter(naem="x")


class NotAModel:
    def filter(self, **kwargs: Any) -> None: ...


NotAModel().filter(naem="x")
AuthorQuerySet(Author).filter(naem="x")  # E: "Author" has no field "naem" (did you mean "name"?)  [djanorm-field]
qs: dorm.QuerySet[Any] = Author.objects.all()
qs.filter(naem="x")
Author.objects.filter(**{"naem": "x"})
