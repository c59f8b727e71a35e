#!/usr/bin/env python
"""Tortoise ORM on the benchmark scenarios (runs in bench/.venvs/tortoise; prints JSON).

Tortoise is async-only, so every scenario is awaited inside one event loop;
the "sync" rows of the table are the same calls awaited (there is no other
way to use it).  Idiomatic calls: ``await Author.get(id=...)``,
``filter(...).count()``, ``select_related("author")``, ``Author.create``,
``Book.bulk_create`` (one transaction), ``filter(...).update(...)``.
Drivers are Tortoise's defaults: aiosqlite for SQLite, asyncpg for PostgreSQL.
"""

from __future__ import annotations

import asyncio
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
    SCENARIOS,
    Plan,
    Result,
    Scenario,
    arun_scenarios,
    author_pk,
    dump_json,
    expect,
    expected_author_name,
    new_author,
    new_books,
    parse_args,
    per_backend_processes,
    reset_writes,
    run_libraries,
)
from tortoise import Tortoise, fields  # noqa: E402
from tortoise.models import Model  # noqa: E402


class Author(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    email = fields.CharField(max_length=254)
    age = fields.IntField()

    class Meta:
        table = "bench_author"


class Book(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    pages = fields.IntField()
    rating = fields.FloatField()
    author: Any = fields.ForeignKeyField("models.Author", related_name="books")

    class Meta:
        table = "bench_book"


def db_url(backend: str, sqlite_file: str | None) -> str:
    if backend == "sqlite":
        return f"sqlite://{sqlite_file}"
    p = PG_PARAMS
    return f"postgres://{p['user']}@{p['host']}:{p['port']}/{p['dbname']}"


def scenarios() -> list[Scenario]:
    async def pk_read(i: int) -> Any:
        return await Author.get(id=author_pk(i))

    async def filtered_count(i: int) -> int:
        return await Book.filter(author_id=author_pk(i)).count()

    async def materialise(i: int) -> list[Any]:
        return await Book.all().order_by("id").limit(PAGE)

    async def select_related(i: int) -> list[str]:
        return [b.author.name for b in await Book.all().select_related("author").order_by("id").limit(PAGE)]

    async def insert_one(i: int) -> int:
        name, email, age = new_author(i)
        return (await Author.create(name=name, email=email, age=age)).id

    async def bulk_insert(i: int) -> None:
        await Book.bulk_create(
            [Book(title=t, pages=p, rating=r, author_id=a) for t, p, r, a in new_books(author_pk(i))]
        )

    async def update_one(i: int) -> int:
        return await Author.filter(id=author_pk(i)).update(age=30 + i % 7)

    def check_author(obj: Any) -> None:
        expect("pk_read", obj.name, expected_author_name(0))

    note = "async-only: awaited"
    return [
        Scenario("pk_read", aop=pk_read, check=check_author, note=note),
        Scenario(
            "filtered_count",
            aop=filtered_count,
            check=lambda n: expect("filtered_count", n, N_BOOKS // N_AUTHORS),
            note=note,
        ),
        Scenario(
            "materialise_100",
            aop=materialise,
            check=lambda o: expect("materialise_100", (len(o), o[0].title), (PAGE, "Book 1")),
            note=note,
        ),
        Scenario(
            "select_related_100",
            aop=select_related,
            check=lambda n: expect("select_related_100", (len(n), n[-1]), (PAGE, f"Author {PAGE}")),
            note=note,
        ),
        Scenario("async_pk_read", aop=pk_read, check=check_author),
        Scenario("insert_one", aop=insert_one, check=lambda pk: expect("insert_one", pk > N_AUTHORS, True), note=note),
        Scenario("bulk_insert_1000", aop=bulk_insert, note=f"bulk_create({BULK_ROWS}), {note}"),
        Scenario("update_one", aop=update_one, check=lambda n: expect("update_one", n, 1), note=note),
    ]


def run_tortoise(
    backend: str, sqlite_file: str | None, plan: Plan, only: list[str] | None, log: Any
) -> dict[str, Result]:
    async def main() -> dict[str, Result]:
        await Tortoise.init(db_url=db_url(backend, sqlite_file), modules={"models": ["__main__"]})
        try:
            out = await arun_scenarios(scenarios(), plan, lambda: reset_writes(backend, sqlite_file), only, log)
        finally:
            await Tortoise.close_connections()
        return {name: out[name] for name in SCENARIOS if name in out}

    return asyncio.run(main())


def main(argv: list[str] | None = None) -> int:
    import tortoise

    args = parse_args(argv, __doc__ or "")
    payload = per_backend_processes(args, __file__, argv) or run_libraries(
        args, {"tortoise": run_tortoise}, {"versions": {"tortoise": tortoise.__version__}}
    )
    dump_json(payload, args.json or "-")
    return 0


if __name__ == "__main__":
    sys.exit(main())
