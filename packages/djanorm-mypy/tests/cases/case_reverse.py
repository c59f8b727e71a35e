"""Reverse names the plugin cannot know are accepted; hidden ones and typos are not."""

# fmt: off

import models_extra
from models_app import Author, Book, Publisher

models_extra.Shelf.objects.filter(slots__id=1, anything__at__all=2)  # computed related_name: every name accepted
Book.objects.filter(reviews__stars__gte=3)
Book.objects.filter(reviews__stars="x")  # E: Incompatible type for "reviews__stars" of "Book" (got "str", expected "int | None")  [djanorm-value]
Book.objects.filter(hidden__id=1)  # E: "Book" has no field "hidden"; valid names: author, editor, id, pages, pk, published, reviews, tags, title  [djanorm-field]
Author.objects.filter(bok__title="x")  # E: "Author" has no field "bok" (did you mean "book"?)  [djanorm-field]
Publisher.objects.filter(magazine__title="x")  # late_models.py (analysed after this module) declares it
Publisher.objects.filter(magazin__title="x")  # E: "Publisher" has no field "magazin" (did you mean "magazine"?)  [djanorm-field]
