"""The a* twins check exactly like their sync originals."""

# fmt: off

from models_app import Author


async def main() -> None:
    Author.objects.afilter(naem="x")  # E: "Author" has no field "naem" (did you mean "name"?)  [djanorm-field]
    await Author.objects.aget(naem="x")  # E: "Author" has no field "naem" (did you mean "name"?)  [djanorm-field]
    await Author.objects.aget_or_none(age__gte="x")  # E: Incompatible type for "age__gte" of "Author" (got "str", expected "int")  [djanorm-value]
    await Author.objects.acreate(naem="x")  # E: "Author" has no field "naem" (did you mean "name"?)  [djanorm-field]
    await Author.objects.filter(age=1).aupdate(agee=2)  # E: "Author" has no field "agee" (did you mean "age"?)  [djanorm-field]
    await Author.objects.aget_or_create(naem="x")  # E: "Author" has no field "naem" (did you mean "name"?)  [djanorm-field]
    await Author.objects.aupdate_or_create(name="x", defaults={"agee": 1})  # E: "Author" has no field "agee" (did you mean "age"?)  [djanorm-field]
    await Author.objects.filter(name="x").aget(publisher__nme="p")  # E: "Publisher" has no field "nme" (did you mean "name"?)  [djanorm-field]
    await Author.objects.aget(name="x", age__gte=1)
    await Author.objects.acreate(name="x", age=1)
