#!/usr/bin/env python
"""Django's ORM on the benchmark scenarios (runs in bench/.venvs/django; prints JSON).

Idiomatic Django: ``Author.objects.get(pk=...)``, ``filter(...).count()``,
``select_related("author")``, ``objects.create``, ``bulk_create``,
``filter(pk=...).update(...)``, ``await Author.objects.aget(pk=...)``
(Django runs async queries in a worker thread through ``sync_to_async``).
"""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import (  # noqa: E402
    BULK_ROWS,
    N_AUTHORS,
    N_BOOKS,
    PAGE,
    PG_PARAMS,
    Plan,
    Result,
    Scenario,
    author_pk,
    dump_json,
    expect,
    expected_author_name,
    new_author,
    new_books,
    parse_args,
    per_backend_processes,
    run_libraries,
    run_suite,
)

_models: tuple[Any, Any] | None = None


def setup_django(backend: str, sqlite_file: str | None) -> tuple[Any, Any]:
    global _models
    import django
    from django.conf import settings

    if backend == "sqlite":
        db = {"ENGINE": "django.db.backends.sqlite3", "NAME": sqlite_file}
    else:
        db = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": PG_PARAMS["dbname"],
            "USER": PG_PARAMS["user"],
            "HOST": PG_PARAMS["host"],
            "PORT": PG_PARAMS["port"],
        }
    # one backend per process (see common.per_backend_processes)
    settings.configure(DATABASES={"default": db}, INSTALLED_APPS=[], USE_TZ=True, DEBUG=False)
    django.setup()
    if _models is None:
        from django.db import models

        class Author(models.Model):
            name = models.CharField(max_length=100)
            email = models.CharField(max_length=254)
            age = models.IntegerField()

            class Meta:
                app_label = "bench"
                db_table = "bench_author"

        class Book(models.Model):
            title = models.CharField(max_length=200)
            pages = models.IntegerField()
            rating = models.FloatField()
            author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")

            class Meta:
                app_label = "bench"
                db_table = "bench_book"

        _models = (Author, Book)
    return _models


class DjangoSuite:
    def __init__(self, backend: str, sqlite_file: str | None) -> None:
        self.Author, self.Book = setup_django(backend, sqlite_file)

    def close(self) -> None:
        from django.db import connections

        connections.close_all()

    async def aclose(self) -> None:
        from asgiref.sync import sync_to_async
        from django.db import connections

        await sync_to_async(connections.close_all)()

    def scenarios(self) -> list[Scenario]:
        Author, Book = self.Author, self.Book

        def pk_read(i: int) -> Any:
            return Author.objects.get(pk=author_pk(i))

        def filtered_count(i: int) -> int:
            return Book.objects.filter(author_id=author_pk(i)).count()

        def materialise(i: int) -> list[Any]:
            return list(Book.objects.order_by("id")[:PAGE])

        def select_related(i: int) -> list[str]:
            return [b.author.name for b in Book.objects.select_related("author").order_by("id")[:PAGE]]

        def insert_one(i: int) -> int:
            name, email, age = new_author(i)
            return Author.objects.create(name=name, email=email, age=age).pk

        def bulk_insert(i: int) -> None:
            Book.objects.bulk_create(
                [Book(title=t, pages=p, rating=r, author_id=a) for t, p, r, a in new_books(author_pk(i))]
            )

        def update_one(i: int) -> int:
            return Author.objects.filter(pk=author_pk(i)).update(age=30 + i % 7)

        async def async_pk_read(i: int) -> Any:
            return await Author.objects.aget(pk=author_pk(i))

        def check_author(obj: Any) -> None:
            expect("pk_read", obj.name, expected_author_name(0))

        return [
            Scenario("pk_read", pk_read, check=check_author),
            Scenario(
                "filtered_count", filtered_count, check=lambda n: expect("filtered_count", n, N_BOOKS // N_AUTHORS)
            ),
            Scenario(
                "materialise_100",
                materialise,
                check=lambda o: expect("materialise_100", (len(o), o[0].title), (PAGE, "Book 1")),
            ),
            Scenario(
                "select_related_100",
                select_related,
                check=lambda n: expect("select_related_100", (len(n), n[-1]), (PAGE, f"Author {PAGE}")),
            ),
            Scenario(
                "async_pk_read", aop=async_pk_read, check=check_author, note="Django async = sync_to_async thread"
            ),
            Scenario("insert_one", insert_one, check=lambda pk: expect("insert_one", pk > N_AUTHORS, True)),
            Scenario("bulk_insert_1000", bulk_insert, note=f"bulk_create({BULK_ROWS})"),
            Scenario("update_one", update_one, check=lambda n: expect("update_one", n, 1)),
        ]


def run_django(
    backend: str, sqlite_file: str | None, plan: Plan, only: list[str] | None, log: Any
) -> dict[str, Result]:
    suite = DjangoSuite(backend, sqlite_file)
    try:
        return run_suite(suite, plan, backend, sqlite_file, only, log)
    finally:
        suite.close()


def main(argv: list[str] | None = None) -> int:
    import django

    args = parse_args(argv, __doc__ or "")
    payload = per_backend_processes(args, __file__, argv) or run_libraries(
        args, {"django": run_django}, {"versions": {"django": django.get_version()}}
    )
    dump_json(payload, args.json or "-")
    return 0


if __name__ == "__main__":
    sys.exit(main())
