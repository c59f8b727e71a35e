"""Valid keywords: nothing here may be reported (a false positive is worse than a miss)."""

# fmt: off

import datetime
import decimal
from typing import Any

from models_app import Author, Book, Publisher, Tag

import dorm

Author.objects.filter(name="x", age=3, age__gte=18, age__lt=99, name__icontains="a", name__startswith="A")
Author.objects.filter(pk=1, id=2, id__in=[1, 2], pk__in=(1, 2), age__range=(1, 9))
Author.objects.filter(nickname__isnull=True, nickname=None, name__in={"a", "b"}, name__regex=r"^A")
Author.objects.filter(created__year=2020, created__year__gte=2020, created__month__in=[1, 2], created__date=datetime.date.today())
Author.objects.filter(created__gte=datetime.datetime.now(), created__lt="2020-01-01", created__date__gte=datetime.date(2020, 1, 1))
Author.objects.filter(rating__gte=decimal.Decimal("1.5"), rating=2, rating__lt=4.5, active=True)
Author.objects.filter(data__key="x", data__nested__deep__contains=[1], audit_note="ok")
Author.objects.filter(dorm.Q(name="x") | dorm.Q(age=3), age__gt=dorm.F("id"))
Author.objects.filter(id__in=Author.objects.filter(age=1).values("id"))
Publisher.objects.filter(founded__year=1999, founded__isnull=False)
kwargs: dict[str, Any] = {"anything": 1}
Author.objects.filter(**kwargs)
Author(name="x", age=3, publisher=None, publisher_id=3, id=None)
Author.objects.create(name="x", age=3, created=datetime.datetime.now())
Author.objects.filter(age=1).update(age=dorm.F("age") + 1, nickname=None)
Author.objects.get_or_create(name="x", defaults={"age": 3})
Author.objects.update_or_create(name="x", defaults={"age": 3, "nickname": None})
Tag.objects.filter(pk="py", code__in=["a"], books__title="x")
Book.objects.filter(tags__code="py", tags__in=["py"], tags=Tag(code="py", label="Python"))
Book.objects.filter(author__name__icontains="a", author__publisher__name="p", author__age__gte=1)
Book.objects.filter(editor__name="x", editor__isnull=True, author_id=3, author_id__in=[1, 2])
author = Author(name="x", age=3)
Book.objects.filter(author=author, author__in=[author], editor=None)
Book.objects.filter(author=1, author__in=[1, 2], author__pk=1)
Book.objects.filter(published__date=datetime.date(2020, 1, 1), published__hour__gte=3)
annotated = Author.objects.annotate(n_books=dorm.Count("book"))
annotated.filter(n_books__gte=1).order_by("-n_books").exclude(n_books=0).get(n_books=1)
Author.objects.filter(age=1).annotate(dorm.Count("book")).filter(book__count=2)
Author.objects.filter(dorm.Q(name="x") & ~dorm.Q(book__title__icontains="t"), dorm.Q(dorm.Q(age=1), publisher=None))
annotated.filter(dorm.Q(n_books__gt=2))
