"""Relation paths: forward, reverse (related_name and the default query name), many-to-many."""

# fmt: off

from models_app import Author, Book, Publisher, Tag

Publisher.objects.filter(authors__name="x", authors__book__title="t")
Author.objects.filter(book__title="t", edited__title="e", book__tags__label="l")
Book.objects.filter(author__publisher__nmae="x")  # E: "Publisher" has no field "nmae" (did you mean "name"?)  [djanorm-field]
Book.objects.filter(author__naem="x")  # E: "Author" has no field "naem" (did you mean "name"?)  [djanorm-field]
Publisher.objects.filter(authors__naem="x")  # E: "Author" has no field "naem" (did you mean "name"?)  [djanorm-field]
Author.objects.filter(book__titel="t")  # E: "Book" has no field "titel" (did you mean "title"?)  [djanorm-field]
Tag.objects.filter(books__author__age__gte="old")  # E: Incompatible type for "books__author__age__gte" of "Tag" (got "str", expected "int")  [djanorm-value]
Book.objects.filter(tags__lable="x")  # E: "Tag" has no field "lable" (did you mean "label"?)  [djanorm-field]
Book.objects.filter(author=Publisher(name="p"))  # E: Incompatible type for "author" of "Book" (got "Publisher", expected "Author | int | None")  [djanorm-value]
Book.objects.filter(author__in=["x"])  # E: Incompatible type for "author__in" of "Book" (got "str", expected "Author | int")  [djanorm-value]
Book.objects.filter(tags=3)  # E: Incompatible type for "tags" of "Book" (got "int", expected "Tag | str | None")  [djanorm-value]
Author.objects.filter(book=Tag(code="x"))  # E: Incompatible type for "book" of "Author" (got "Tag", expected "Book | None")  [djanorm-value]
