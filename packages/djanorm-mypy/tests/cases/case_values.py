"""Value types of lookups and assignments."""

# fmt: off

import datetime

from models_app import Author, Book

Author.objects.filter(age__gte="x")  # E: Incompatible type for "age__gte" of "Author" (got "str", expected "int")  [djanorm-value]
Author.objects.filter(age="3")  # E: Incompatible type for "age" of "Author" (got "str", expected "int | None")  [djanorm-value]
Author.objects.filter(age__in=["x", 2])  # E: Incompatible type for "age__in" of "Author" (got "str", expected "int")  [djanorm-value]
Author.objects.filter(age__in=3)  # E: Incompatible type for "age__in" of "Author" (got "int", expected "Iterable[int]")  [djanorm-value]
Author.objects.filter(nickname__isnull="yes")  # E: Incompatible type for "nickname__isnull" of "Author" (got "str", expected "bool")  [djanorm-value]
Author.objects.filter(name__icontains=3)  # E: Incompatible type for "name__icontains" of "Author" (got "int", expected "str")  [djanorm-value]
Author.objects.filter(created__year="2020")  # E: Incompatible type for "created__year" of "Author" (got "str", expected "int | None")  [djanorm-value]
Author.objects.filter(active="no")  # E: Incompatible type for "active" of "Author" (got "str", expected "bool | None")  [djanorm-value]
Author.objects.create(name=3, age=1)  # E: Incompatible type for "name" of "Author" (got "int", expected "str")  [djanorm-value]
Author.objects.create(name="x", age=None)  # E: Incompatible type for "age" of "Author" (got "None", expected "int")  [djanorm-value]
Author.objects.filter(age=1).update(age="x")  # E: Incompatible type for "age" of "Author" (got "str", expected "int")  [djanorm-value]
Author(name="x", age=datetime.date.today())  # E: Incompatible type for "age" of "Author" (got "date", expected "int")  [djanorm-value]
Book.objects.create(title="t", author="me")  # E: Incompatible type for "author" of "Book" (got "str", expected "Author | int")  [djanorm-value]
