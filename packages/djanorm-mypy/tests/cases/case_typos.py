"""The seed's symptom: a misspelt field name in a query."""

# fmt: off

from models_app import Author, Book

import dorm

Author.objects.filter(naem="x")  # E: "Author" has no field "naem" (did you mean "name"?)  [djanorm-field]
Author.objects.exclude(nmae="x")  # E: "Author" has no field "nmae" (did you mean "name"?)  [djanorm-field]
Author.objects.get(agee=3)  # E: "Author" has no field "agee" (did you mean "age"?)  [djanorm-field]
Author.objects.get_or_none(nicknme="x")  # E: "Author" has no field "nicknme" (did you mean "nickname"?)  [djanorm-field]
Author.objects.filter(name="x").exclude(naem="y")  # E: "Author" has no field "naem" (did you mean "name"?)  [djanorm-field]
Author.objects.all().filter(age=1).get(naem="y")  # E: "Author" has no field "naem" (did you mean "name"?)  [djanorm-field]
Book.objects.create(titel="x", author_id=1)  # E: "Book" has no field "titel" (did you mean "title"?)  [djanorm-field]
Author.objects.filter(name="x").update(naem="y")  # E: "Author" has no field "naem" (did you mean "name"?)  [djanorm-field]
Author.objects.get_or_create(naem="x")  # E: "Author" has no field "naem" (did you mean "name"?)  [djanorm-field]
Author.objects.update_or_create(name="x", defaults={"agee": 3})  # E: "Author" has no field "agee" (did you mean "age"?)  [djanorm-field]
Author.objects.filter(zzzzzz=1)  # E: "Author" has no field "zzzzzz"; valid names: active, age, book, created, data, edited, id, name, nickname, pk, publisher, rating  [djanorm-field]
Author.objects.filter(name__icontans="a")  # E: Unsupported lookup "icontans" for "Author.name" (did you mean "icontains"?)  [djanorm-field]
Author.objects.filter(age__year=2020)  # E: Unsupported lookup "year" for "Author.age"; valid names: contains, endswith, exact, gt, gte, icontains, iendswith, iexact, in, iregex, isnull, istartswith, lt, lte, range, regex, startswith  [djanorm-field]
Author(naem="x")  # E: "Author" has no field "naem" (did you mean "name"?)  [djanorm-field]
Author.objects.annotate(n_books=dorm.Count("book")).filter(n_books=1, naem="x")  # E: "Author" has no field "naem" (did you mean "name"?)  [djanorm-field]
Author.objects.filter(n_books=1)  # E: "Author" has no field "n_books" (did you mean "book"?)  [djanorm-field]
Author.objects.filter(dorm.Q(naem="x") | dorm.Q(age=1))  # E: "Author" has no field "naem" (did you mean "name"?)  [djanorm-field]
Author.objects.exclude(~dorm.Q(age__lt="x"))  # E: Incompatible type for "age__lt" of "Author" (got "str", expected "int")  [djanorm-value]
