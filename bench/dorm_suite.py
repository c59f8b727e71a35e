"""djanorm on the benchmark scenarios, through its public API only.

The tables already exist (``common.setup_backend`` creates them with the
data set); the models below map onto them with ``Meta.db_table``.
"""

from __future__ import annotations

from typing import Any

from common import (
    BULK_ROWS,
    N_AUTHORS,
    N_BOOKS,
    PAGE,
    PG_PARAMS,
    Scenario,
    author_pk,
    expect,
    expected_author_name,
    new_author,
    new_books,
)

_models: tuple[Any, Any] | None = None


def models() -> tuple[Any, Any]:
    """Define the two models once per process (the model registry is global)."""
    global _models
    if _models is None:
        import dorm

        class Author(dorm.Model):
            name = dorm.CharField(max_length=100)
            email = dorm.CharField(max_length=254)
            age = dorm.IntegerField()

            class Meta:
                app_label = "bench"
                db_table = "bench_author"

        class Book(dorm.Model):
            title = dorm.CharField(max_length=200)
            pages = dorm.IntegerField()
            rating = dorm.FloatField()
            author = dorm.ForeignKey(Author, on_delete=dorm.CASCADE, related_name="books")

            class Meta:
                app_label = "bench"
                db_table = "bench_book"

        _models = (Author, Book)
    return _models


def configure(backend: str, sqlite_file: str | None) -> None:
    import dorm

    if backend == "sqlite":
        db = {"ENGINE": "sqlite", "NAME": sqlite_file}
    else:
        db = {
            "ENGINE": "postgresql",
            "NAME": PG_PARAMS["dbname"],
            "USER": PG_PARAMS["user"],
            "HOST": PG_PARAMS["host"],
            "PORT": PG_PARAMS["port"],
            "MIN_POOL_SIZE": 1,
            "MAX_POOL_SIZE": 2,
        }
    dorm.configure(DATABASES={"default": db})


class DormSuite:
    label = "djanorm"

    def __init__(self, backend: str, sqlite_file: str | None) -> None:
        configure(backend, sqlite_file)
        self.Author, self.Book = models()

    async def aclose(self) -> None:
        import dorm

        await dorm.close_all_async()

    def close(self) -> None:
        import dorm

        dorm.close_all()

    def scenarios(self) -> list[Scenario]:
        Author, Book = self.Author, self.Book
        authors, books = Author.objects, Book.objects

        def pk_read(i: int) -> Any:
            return authors.get(pk=author_pk(i))

        def filtered_count(i: int) -> int:
            return books.filter(author_id=author_pk(i)).count()

        def materialise(i: int) -> list[Any]:
            return list(books.order_by("id")[:PAGE])

        def select_related(i: int) -> list[str]:
            return [b.author.name for b in books.select_related("author").order_by("id")[:PAGE]]

        def insert_one(i: int) -> int:
            name, email, age = new_author(i)
            return authors.create(name=name, email=email, age=age).pk

        def bulk_insert(i: int) -> None:
            books.bulk_create([Book(title=t, pages=p, rating=r, author_id=a) for t, p, r, a in new_books(author_pk(i))])

        def update_one(i: int) -> int:
            return authors.filter(pk=author_pk(i)).update(age=30 + i % 7)

        async def async_pk_read(i: int) -> Any:
            return await authors.aget(pk=author_pk(i))

        def check_page(objs: list[Any]) -> None:
            expect(
                "materialise_100",
                (len(objs), objs[0].title, objs[-1].id, type(objs[0]).__name__),
                (PAGE, "Book 1", PAGE, "Book"),
            )

        def check_names(names: list[str]) -> None:
            expect("select_related_100", (len(names), names[0], names[-1]), (PAGE, "Author 1", f"Author {PAGE}"))

        def check_author(obj: Any) -> None:
            expect("pk_read", (type(obj).__name__, obj.name), ("Author", expected_author_name(0)))

        def check_count(n: int) -> None:
            expect("filtered_count", n, N_BOOKS // N_AUTHORS)

        def check_pk(pk: Any) -> None:
            expect("insert_one", isinstance(pk, int) and pk > N_AUTHORS, True)

        def check_update(n: int) -> None:
            expect("update_one", n, 1)

        return [
            Scenario("pk_read", pk_read, check=check_author),
            Scenario("filtered_count", filtered_count, check=check_count),
            Scenario("materialise_100", materialise, check=check_page),
            Scenario("select_related_100", select_related, check=check_names),
            Scenario("async_pk_read", aop=async_pk_read, check=check_author),
            Scenario("insert_one", insert_one, check=check_pk),
            Scenario("bulk_insert_1000", bulk_insert, note=f"bulk_create({BULK_ROWS} instances)"),
            Scenario("update_one", update_one, check=check_update),
        ]


def dorm_status() -> str | None:
    """``None`` when djanorm's ORM layer can run; else why not (the bench then reports only the floor)."""
    try:
        import dorm

        dorm.Model  # noqa: B018  (lazy attribute: imports dorm.models)
        dorm.ForeignKey  # noqa: B018
    except Exception as exc:
        return f"djanorm ORM not available yet ({type(exc).__name__}: {exc})"
    return None
