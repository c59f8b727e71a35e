#!/usr/bin/env python
"""SQLAlchemy 2.x ORM on the benchmark scenarios (runs in bench/.venvs/sqlalchemy; prints JSON).

Idiomatic 2.0 style: a ``Session`` per unit of work (``sessionmaker`` with
``expire_on_commit=False``, so reading ``obj.id`` after ``commit()`` does not
reload the row), ``session.get``, ``select(...)`` + ``scalars``,
``joinedload`` for the join, ``session.execute(insert(Book), [dicts])`` for
the bulk insert, ``update(...)`` for the single update.  Async: ``AsyncSession``
on ``sqlite+aiosqlite`` / ``postgresql+psycopg`` (psycopg 3 async).
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
from sqlalchemy import ForeignKey, String, create_engine, func, insert, select, update  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, joinedload, mapped_column, relationship, sessionmaker  # noqa: E402


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "bench_author"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    age: Mapped[int]


class Book(Base):
    __tablename__ = "bench_book"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    pages: Mapped[int]
    rating: Mapped[float]
    author_id: Mapped[int] = mapped_column(ForeignKey("bench_author.id"), index=True)
    author: Mapped[Author] = relationship()


def urls(backend: str, sqlite_file: str | None) -> tuple[str, str]:
    if backend == "sqlite":
        return f"sqlite:///{sqlite_file}", f"sqlite+aiosqlite:///{sqlite_file}"
    p = PG_PARAMS
    tail = f"{p['user']}@{p['host']}:{p['port']}/{p['dbname']}"
    return f"postgresql+psycopg://{tail}", f"postgresql+psycopg://{tail}"


class SQLAlchemySuite:
    def __init__(self, backend: str, sqlite_file: str | None) -> None:
        self.sync_url, self.async_url = urls(backend, sqlite_file)
        self.engine = create_engine(self.sync_url)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)
        self.aengine: Any = None
        self.ASession: Any = None

    async def aopen(self) -> None:
        self.aengine = create_async_engine(self.async_url)
        self.ASession = async_sessionmaker(self.aengine, expire_on_commit=False, class_=AsyncSession)

    async def aclose(self) -> None:
        if self.aengine is not None:
            await self.aengine.dispose()

    def close(self) -> None:
        self.engine.dispose()

    def scenarios(self) -> list[Scenario]:
        Session, suite = self.Session, self
        count_q = select(func.count()).select_from(Book)
        page_q = select(Book).order_by(Book.id).limit(PAGE)
        join_q = select(Book).options(joinedload(Book.author, innerjoin=True)).order_by(Book.id).limit(PAGE)

        def pk_read(i: int) -> Any:
            with Session() as s:
                return s.get(Author, author_pk(i))

        def filtered_count(i: int) -> int:
            with Session() as s:
                return s.scalar(count_q.where(Book.author_id == author_pk(i)))

        def materialise(i: int) -> list[Any]:
            with Session() as s:
                return list(s.scalars(page_q).all())

        def select_related(i: int) -> list[str]:
            with Session() as s:
                return [b.author.name for b in s.scalars(join_q).all()]

        def insert_one(i: int) -> int:
            name, email, age = new_author(i)
            with Session() as s:
                obj = Author(name=name, email=email, age=age)
                s.add(obj)
                s.commit()
                return obj.id

        def bulk_insert(i: int) -> None:
            rows = [{"title": t, "pages": p, "rating": r, "author_id": a} for t, p, r, a in new_books(author_pk(i))]
            with Session() as s:
                s.execute(insert(Book), rows)
                s.commit()

        def update_one(i: int) -> int:
            with Session() as s:
                n = s.execute(update(Author).where(Author.id == author_pk(i)).values(age=30 + i % 7)).rowcount
                s.commit()
                return n

        async def async_pk_read(i: int) -> Any:
            async with suite.ASession() as s:
                return await s.get(Author, author_pk(i))

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
            Scenario("async_pk_read", aop=async_pk_read, check=check_author, note="AsyncSession"),
            Scenario("insert_one", insert_one, check=lambda pk: expect("insert_one", pk > N_AUTHORS, True)),
            Scenario("bulk_insert_1000", bulk_insert, note=f"session.execute(insert(Book), {BULK_ROWS} dicts)"),
            Scenario("update_one", update_one, check=lambda n: expect("update_one", n, 1)),
        ]


def run_sqlalchemy(
    backend: str, sqlite_file: str | None, plan: Plan, only: list[str] | None, log: Any
) -> dict[str, Result]:
    suite = SQLAlchemySuite(backend, sqlite_file)
    try:
        return run_suite(suite, plan, backend, sqlite_file, only, log)
    finally:
        suite.close()


def main(argv: list[str] | None = None) -> int:
    import sqlalchemy

    args = parse_args(argv, __doc__ or "")
    payload = per_backend_processes(args, __file__, argv) or run_libraries(
        args, {"sqlalchemy": run_sqlalchemy}, {"versions": {"sqlalchemy": sqlalchemy.__version__}}
    )
    dump_json(payload, args.json or "-")
    return 0


if __name__ == "__main__":
    sys.exit(main())
