"""Unusual code: the plugin stays quiet (or mypy's own errors stand alone) and never crashes."""

# fmt: off

from typing import Any, TypeVar

import models_extra
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


M = TypeVar("M", bound=dorm.Model)


def generic(model: type[M]) -> dorm.QuerySet[M]:
    return model.objects.filter(naem="x")  # a type variable: the model is not known here


class AuthorManager(dorm.Manager[Author]):
    def filter(self, *args: Any, only_active: bool = False, **kwargs: Any) -> dorm.QuerySet[Author]:
        return super().filter(*args, **kwargs)


AuthorManager().filter(only_active=True, name="x")
AuthorManager().filter(only_active=True, nmae="x")  # E: "Author" has no field "nmae" (did you mean "name"?)  [djanorm-field]
Author.objects.get_or_create(name="x", defaults={"age": "old"})  # E: Incompatible type for "age" of "Author" (got "str", expected "int")  [djanorm-value]


def local_models() -> None:
    class Local(dorm.Model):
        title = dorm.CharField(max_length=5)

    Local.objects.filter(title="x")
    Local.objects.filter(titel="x")  # E: "Local" has no field "titel" (did you mean "title"?)  [djanorm-field]


def scoped(qs: dorm.QuerySet[models_extra.Scoped]) -> None:
    customer = models_extra.Customer.objects.create(name="c")  # typed as the abstract parent
    models_extra.Invoice.objects.create(number="1", customer=customer)
    models_extra.Invoice.objects.filter(number="1").exclude(customer=customer)
    models_extra.Invoice.objects.filter(numbr="1")  # E: "Invoice" has no field "numbr" (did you mean "number"?)  [djanorm-field]
    qs.filter(anything=1)  # abstract model, concrete one unknown


class WithInit(dorm.Model):
    title = dorm.CharField(max_length=5)

    def __init__(self, *args: Any, heading: str = "", **kwargs: Any) -> None:
        super().__init__(*args, title=heading, **kwargs)


WithInit(heading="x")
WithInit.objects.create(heading="x")  # create() calls that __init__
