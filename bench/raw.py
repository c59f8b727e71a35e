"""The floor: the raw driver running the same SQL each ORM runs.

* SQLite: stdlib ``sqlite3``, one connection in autocommit mode
  (``isolation_level=None``) with dorm-sqlite's settings (WAL, which the
  data set's file already has, ``synchronous=NORMAL``, ``foreign_keys=ON``); the async scenario runs the same sync call on
  ONE dedicated worker thread fed by a ``queue.SimpleQueue``, the result
  handed back with ``loop.call_soon_threadsafe`` (the pattern dorm-sqlite's
  async connection uses, and cheaper than ``asyncio.to_thread``, which goes
  through the default executor and copies the context each call).
* PostgreSQL: psycopg 3, one ``autocommit=True`` connection (sync) and one
  ``AsyncConnection`` (async).

Rows become small ``__slots__`` objects, the least an application does with
them, so "materialise" compares like with like.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any

from common import (
    AUTHOR_TABLE,
    BOOK_TABLE,
    N_AUTHORS,
    N_BOOKS,
    PAGE,
    PG_DSN,
    Scenario,
    author_pk,
    expect,
    expected_author_name,
    new_author,
    new_books,
)


class RawAuthor:
    __slots__ = ("id", "name", "email", "age")

    def __init__(self, id: int, name: str, email: str, age: int) -> None:
        self.id = id
        self.name = name
        self.email = email
        self.age = age


class RawBook:
    __slots__ = ("id", "title", "pages", "rating", "author_id", "author")

    def __init__(self, id: int, title: str, pages: int, rating: float, author_id: int) -> None:
        self.id = id
        self.title = title
        self.pages = pages
        self.rating = rating
        self.author_id = author_id


def _sql(ph: str) -> dict[str, str]:
    a, b = f'"{AUTHOR_TABLE}"', f'"{BOOK_TABLE}"'
    return {
        "pk_read": f'SELECT "id", "name", "email", "age" FROM {a} WHERE "id" = {ph} LIMIT 21',
        "count": f'SELECT COUNT(*) FROM {b} WHERE "author_id" = {ph}',
        "page": f'SELECT "id", "title", "pages", "rating", "author_id" FROM {b} ORDER BY "id" ASC LIMIT {PAGE}',
        "join": (
            f'SELECT {b}."id", {b}."title", {b}."pages", {b}."rating", {b}."author_id", '
            f'{a}."id", {a}."name", {a}."email", {a}."age" FROM {b} INNER JOIN {a} '
            f'ON ({b}."author_id" = {a}."id") ORDER BY {b}."id" ASC LIMIT {PAGE}'
        ),
        "insert": f'INSERT INTO {a} ("name", "email", "age") VALUES ({ph}, {ph}, {ph})',
        "bulk": f'INSERT INTO {b} ("title", "pages", "rating", "author_id") VALUES ({ph}, {ph}, {ph}, {ph})',
        "update": f'UPDATE {a} SET "age" = {ph} WHERE "id" = {ph}',
    }


def _check_page(books: list[Any]) -> None:
    expect("materialise_100", (len(books), books[0].title, books[-1].id), (PAGE, "Book 1", PAGE))


def _check_join(names: list[str]) -> None:
    expect("select_related_100", (len(names), names[0], names[-1]), (PAGE, "Author 1", f"Author {PAGE}"))


def _check_name(obj: Any) -> None:
    expect("pk_read", obj.name, expected_author_name(0))


def _check_count(n: int) -> None:
    expect("filtered_count", n, N_BOOKS // N_AUTHORS)


def _check_pk(pk: Any) -> None:
    expect("insert_one", isinstance(pk, int) and pk > N_AUTHORS, True)


class _Worker:
    """One thread running blocking calls for the event loop (the minimal async-over-sqlite3 bridge)."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._work, name="bench-sqlite-worker", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            func, arg, future, loop = job
            try:
                loop.call_soon_threadsafe(_deliver, future, func(arg))
            except BaseException as exc:
                loop.call_soon_threadsafe(_fail, future, exc)

    def call(self, func: Callable[[Any], Any], arg: Any) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.jobs.put((func, arg, future, loop))
        return future

    def stop(self) -> None:
        self.jobs.put(None)
        self.thread.join()


def _deliver(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


class RawSQLiteSuite:
    """Raw ``sqlite3``."""

    label = "raw sqlite3"

    def __init__(self, path: str) -> None:
        import sqlite3

        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # the per-connection settings dorm-sqlite uses (WAL is already on the file)
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.sql = _sql("?")
        self.worker: _Worker | None = None

    async def aopen(self) -> None:
        self.worker = _Worker()

    async def aclose(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    def close(self) -> None:
        self.conn.close()

    def scenarios(self) -> list[Scenario]:
        conn, sql = self.conn, self.sql
        q_pk, q_count, q_page, q_join = sql["pk_read"], sql["count"], sql["page"], sql["join"]
        q_insert, q_bulk, q_update = sql["insert"], sql["bulk"], sql["update"]

        def pk_read(i: int) -> RawAuthor:
            row = conn.execute(q_pk, (author_pk(i),)).fetchone()
            return RawAuthor(*row)

        def filtered_count(i: int) -> int:
            return conn.execute(q_count, (author_pk(i),)).fetchone()[0]

        def materialise(i: int) -> list[RawBook]:
            return [RawBook(*r) for r in conn.execute(q_page).fetchall()]

        def select_related(i: int) -> list[str]:
            names = []
            for r in conn.execute(q_join).fetchall():
                book = RawBook(r[0], r[1], r[2], r[3], r[4])
                book.author = RawAuthor(r[5], r[6], r[7], r[8])
                names.append(book.author.name)
            return names

        def insert_one(i: int) -> int:
            return conn.execute(q_insert, new_author(i)).lastrowid

        def bulk_insert(i: int) -> None:
            conn.execute("BEGIN")
            try:
                conn.executemany(q_bulk, new_books(author_pk(i)))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

        def update_one(i: int) -> None:
            conn.execute(q_update, (30 + i % 7, author_pk(i)))

        suite = self

        async def async_pk_read(i: int) -> RawAuthor:
            assert suite.worker is not None
            return await suite.worker.call(pk_read, i)

        return [
            Scenario("pk_read", pk_read, check=_check_name),
            Scenario("filtered_count", filtered_count, check=_check_count),
            Scenario("materialise_100", materialise, check=_check_page),
            Scenario("select_related_100", select_related, check=_check_join),
            Scenario(
                "async_pk_read",
                aop=async_pk_read,
                check=_check_name,
                note="sync read on one worker thread (SimpleQueue + call_soon_threadsafe)",
            ),
            Scenario("insert_one", insert_one, check=_check_pk),
            Scenario("bulk_insert_1000", bulk_insert, note="BEGIN; executemany; COMMIT"),
            Scenario("update_one", update_one),
        ]


class RawPostgresSuite:
    """Raw psycopg 3 (sync connection + AsyncConnection)."""

    label = "raw psycopg"

    def __init__(self) -> None:
        import psycopg

        self.psycopg = psycopg
        self.conn = psycopg.connect(PG_DSN, autocommit=True)
        self.aconn: Any = None
        self.sql = _sql("%s")
        self.sql["insert"] += ' RETURNING "id"'

    async def aopen(self) -> None:
        self.aconn = await self.psycopg.AsyncConnection.connect(PG_DSN, autocommit=True)

    async def aclose(self) -> None:
        if self.aconn is not None:
            await self.aconn.close()
            self.aconn = None

    def close(self) -> None:
        self.conn.close()

    def scenarios(self) -> list[Scenario]:
        conn, sql, suite = self.conn, self.sql, self
        q_pk, q_count, q_page, q_join = sql["pk_read"], sql["count"], sql["page"], sql["join"]
        q_insert, q_bulk, q_update = sql["insert"], sql["bulk"], sql["update"]

        def pk_read(i: int) -> RawAuthor:
            with conn.cursor() as cur:
                cur.execute(q_pk, (author_pk(i),))
                return RawAuthor(*cur.fetchone())

        def filtered_count(i: int) -> int:
            with conn.cursor() as cur:
                cur.execute(q_count, (author_pk(i),))
                return cur.fetchone()[0]

        def materialise(i: int) -> list[RawBook]:
            with conn.cursor() as cur:
                cur.execute(q_page)
                return [RawBook(*r) for r in cur.fetchall()]

        def select_related(i: int) -> list[str]:
            names = []
            with conn.cursor() as cur:
                cur.execute(q_join)
                for r in cur.fetchall():
                    book = RawBook(r[0], r[1], r[2], r[3], r[4])
                    book.author = RawAuthor(r[5], r[6], r[7], r[8])
                    names.append(book.author.name)
            return names

        def insert_one(i: int) -> int:
            with conn.cursor() as cur:
                cur.execute(q_insert, new_author(i))
                return cur.fetchone()[0]

        def bulk_insert(i: int) -> None:
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(q_bulk, new_books(author_pk(i)))

        def update_one(i: int) -> None:
            with conn.cursor() as cur:
                cur.execute(q_update, (30 + i % 7, author_pk(i)))

        async def async_pk_read(i: int) -> RawAuthor:
            async with suite.aconn.cursor() as cur:
                await cur.execute(q_pk, (author_pk(i),))
                return RawAuthor(*(await cur.fetchone()))

        return [
            Scenario("pk_read", pk_read, check=_check_name),
            Scenario("filtered_count", filtered_count, check=_check_count),
            Scenario("materialise_100", materialise, check=_check_page),
            Scenario("select_related_100", select_related, check=_check_join),
            Scenario("async_pk_read", aop=async_pk_read, check=_check_name, note="psycopg AsyncConnection"),
            Scenario("insert_one", insert_one, check=_check_pk, note="INSERT ... RETURNING id"),
            Scenario("bulk_insert_1000", bulk_insert, note="transaction + executemany (pipeline)"),
            Scenario("update_one", update_one),
        ]


__all__ = ["N_AUTHORS", "RawPostgresSuite", "RawSQLiteSuite"]
