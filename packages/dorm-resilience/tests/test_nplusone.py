"""The N+1 detector: templates, thresholds, findings, async and context isolation; the seed entry on the ORM."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import dorm
from dorm import plugins
from dorm_resilience import nplusone as own_module
from dorm_resilience.nplusone import Finding, normalize_sql

# -- the contrib module ---------------------------------------------------------------------


def test_contrib_module_is_the_plugin_module() -> None:
    import dorm.contrib.nplusone as contrib
    from dorm.contrib.nplusone import NPlusOneDetector, assert_no_nplusone

    assert contrib is own_module
    assert NPlusOneDetector is own_module.NPlusOneDetector
    assert assert_no_nplusone is own_module.assert_no_nplusone
    assert issubclass(dorm.NPlusOneError, AssertionError)


# -- templates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("SELECT * FROM book WHERE id = 1", "SELECT * FROM book WHERE id = 2"),
        ("SELECT * FROM book WHERE title = 'a'", "SELECT * FROM book WHERE title = 'it''s'"),
        ('SELECT * FROM "book" WHERE "id" = %s', 'SELECT  *  FROM "book"\n WHERE "id" = %s'),
        ("SELECT * FROM book WHERE id IN (%s, %s, %s)", "SELECT * FROM book WHERE id IN (%s)"),
        ("SELECT * FROM book WHERE id IN (1, 2)", "SELECT * FROM book WHERE id IN (3,4,5,6)"),
        ("SELECT * FROM book WHERE id = $1", "SELECT * FROM book WHERE id = ?"),
        ("INSERT INTO t (a, b) VALUES (%s, %s)", "INSERT INTO t (a, b) VALUES (%s, %s), (%s, %s)"),
        ("SELECT * FROM t WHERE x > -1.5e3", "SELECT * FROM t WHERE x > 7"),
    ],
)
def test_parameters_and_literals_are_stripped(a: str, b: str) -> None:
    assert normalize_sql(a) == normalize_sql(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ('SELECT * FROM "book_1"', 'SELECT * FROM "book_2"'),
        ("SELECT * FROM t1", "SELECT * FROM t2"),
        ("SELECT a FROM t WHERE id = 1", "SELECT b FROM t WHERE id = 1"),
    ],
)
def test_identifiers_are_kept(a: str, b: str) -> None:
    assert normalize_sql(a) != normalize_sql(b)


def test_template_text() -> None:
    assert normalize_sql("SELECT name FROM item WHERE id = 3 AND name = 'x' AND qty IN (1, 2)") == (
        "SELECT name FROM item WHERE id = ? AND name = ? AND qty IN (...)"
    )


# -- threshold semantics, raw SQL ---------------------------------------------------------------


def run_lookups(n: int) -> None:
    conn = dorm.get_connection()
    for i in range(1, n + 1):
        conn.execute("SELECT name FROM item WHERE id = %s", [i])


def test_raises_when_a_template_runs_more_than_threshold_times(backend: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector

    with pytest.raises(dorm.NPlusOneError) as info:
        with NPlusOneDetector(threshold=5):
            run_lookups(6)
    message = str(info.value)
    assert "ran 6 times, more than the threshold of 5" in message
    assert "SELECT name FROM item WHERE id = ?" in message
    assert "Fix:" in message
    assert isinstance(info.value, AssertionError)


def test_exactly_threshold_runs_stay_silent(backend: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector

    with NPlusOneDetector(threshold=5) as detector:
        run_lookups(5)
    assert detector.findings == []
    assert detector.counts == {"SELECT name FROM item WHERE id = ?": 5}


def test_two_repeats_stay_silent_at_threshold_two(backend: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector

    with NPlusOneDetector(threshold=2):
        run_lookups(2)
    with pytest.raises(dorm.NPlusOneError, match="ran 3 times"):
        with NPlusOneDetector(threshold=2):
            run_lookups(3)


def test_collect_mode_findings_and_report(backend: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector

    with NPlusOneDetector(threshold=3, raise_on_detect=False) as detector:
        run_lookups(7)
        conn = dorm.get_connection()
        for i in range(4):
            conn.execute("UPDATE item SET name = %s WHERE id = %s", [f"n{i}", i + 1])
        conn.execute("SELECT count(*) FROM item")
    assert [(f.template, f.count) for f in detector.findings] == [
        ("SELECT name FROM item WHERE id = ?", 7),
        ("UPDATE item SET name = ? WHERE id = ?", 4),
    ]
    finding = detector.findings[1]
    assert isinstance(finding, Finding)
    assert finding.origin is None and finding.threshold == 3
    assert "bulk_update()" in finding.suggestion
    report = detector.report()
    assert report.startswith("2 N+1 pattern(s) found:")
    assert "SQL template ran 7 times (threshold 3)" in report


def test_report_without_findings(backend: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector

    with NPlusOneDetector(threshold=3, raise_on_detect=False) as detector:
        run_lookups(1)
    assert detector.report() == "No N+1 queries found (no SQL template ran more than 3 times)."


def test_ignore_patterns(backend: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector

    with NPlusOneDetector(threshold=2, ignore=[r"FROM item WHERE id"]) as detector:
        run_lookups(5)
    assert detector.counts == {}


def test_a_real_error_in_the_block_is_not_replaced(backend: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector

    with pytest.raises(KeyError):
        with NPlusOneDetector(threshold=1) as detector:
            run_lookups(3)
            raise KeyError("the real problem")
    assert detector.findings[0].count == 3  # still collected


def test_failed_statements_are_not_counted(backend: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector

    conn = dorm.get_connection()
    with NPlusOneDetector(threshold=1) as detector:
        for _ in range(3):
            with pytest.raises(dorm.DatabaseError):
                conn.execute("SELECT nope FROM item WHERE id = %s", [1])
    assert detector.counts == {}


def test_prefetch_origin_with_no_rows_is_not_counted() -> None:
    from dorm.backends.base.statement import Statement

    detector = own_module.NPlusOneDetector(threshold=1)
    empty = Statement("default", 'SELECT * FROM "tag" WHERE "tag"."id" IN (%s)', [1], origin="prefetch:Article.tags")
    empty.rows = []
    hook = own_module._DetectorHook()
    with detector:
        for _ in range(3):
            gen = hook.dorm_statement(empty)
            next(gen)
            with pytest.raises(StopIteration):
                gen.send(None)
    assert detector.counts == {}


def test_assert_no_nplusone_helper(backend: str) -> None:
    from dorm.contrib.nplusone import assert_no_nplusone

    with assert_no_nplusone(threshold=3):
        run_lookups(3)
    with pytest.raises(AssertionError, match="more than the threshold of 3"):
        with assert_no_nplusone(threshold=3):
            run_lookups(4)


async def test_async_detector(backend: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector, assert_no_nplusone

    conn = dorm.get_connection()
    with pytest.raises(dorm.NPlusOneError, match="ran 4 times"):
        async with NPlusOneDetector(threshold=3):
            for i in range(4):
                await conn.aexecute("SELECT name FROM item WHERE id = %s", [i])
    async with assert_no_nplusone(threshold=3):
        await conn.aexecute("SELECT name FROM item WHERE id IN (%s, %s, %s, %s)", [1, 2, 3, 4])


async def test_detectors_follow_the_task(backend: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector

    conn = dorm.get_connection()

    async def watched() -> dict[str, int]:
        async with NPlusOneDetector(threshold=100) as detector:
            for i in range(3):
                await conn.aexecute("SELECT name FROM item WHERE id = %s", [i])
                await asyncio.sleep(0.001)
        return detector.counts

    async def noisy() -> None:
        for i in range(10):
            await conn.aexecute("SELECT id FROM item WHERE name = %s", [str(i)])
            await asyncio.sleep(0.001)

    counts, _ = await asyncio.gather(watched(), noisy())
    assert counts == {"SELECT name FROM item WHERE id = ?": 3}


def test_detectors_follow_the_thread(backend: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector

    stop = threading.Event()

    def noisy() -> None:
        conn = dorm.get_connection()
        while not stop.is_set():
            conn.execute("SELECT id FROM item WHERE name = %s", ["x"])

    thread = threading.Thread(target=noisy)
    thread.start()
    try:
        with NPlusOneDetector(threshold=100) as detector:
            run_lookups(4)
    finally:
        stop.set()
        thread.join(5)
    assert detector.counts == {"SELECT name FROM item WHERE id = ?": 4}


def test_wrapper_registered_only_while_a_detector_is_active(backend: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector

    def registered() -> bool:
        return any(
            getattr(w, "__qualname__", "").startswith("_DetectorHook") for w in plugins.kernel.statement_wrappers()
        )

    assert not registered()
    with NPlusOneDetector():
        assert registered()
    assert not registered()


def test_bad_threshold() -> None:
    with pytest.raises(ValueError, match="threshold"):
        own_module.NPlusOneDetector(threshold=0)


# -- the seed entry on the ORM: "My endpoint runs N queries instead of 1" --------------------------


class Publisher(dorm.Model):
    name = dorm.CharField(max_length=50)

    class Meta:
        app_label = "resilience_tests"
        db_table = "rt_publisher"


class Author(dorm.Model):
    name = dorm.CharField(max_length=50)
    publisher = dorm.ForeignKey(Publisher, on_delete=dorm.CASCADE, related_name="authors")

    class Meta:
        app_label = "resilience_tests"
        db_table = "rt_author"


class Tag(dorm.Model):
    label = dorm.CharField(max_length=30)

    class Meta:
        app_label = "resilience_tests"
        db_table = "rt_tag"


class Article(dorm.Model):
    title = dorm.CharField(max_length=50)
    tags = dorm.ManyToManyField(Tag, related_name="articles")

    class Meta:
        app_label = "resilience_tests"
        db_table = "rt_article"


MODELS = [Publisher, Author, Tag, Article]


@pytest.fixture
def orm(backend: str) -> Iterator[str]:
    """The four models' tables with 8 authors on 4 publishers and 8 articles with 2 tags each."""
    from dorm.db.connections import connections

    conn = dorm.get_connection()
    q = connections["default"].ops.quote_name
    tables = ["rt_article_tags", "rt_article", "rt_tag", "rt_author", "rt_publisher"]
    for table in tables:
        conn.execute(f"DROP TABLE IF EXISTS {q(table)}")
    # Plain DDL (not the schema editor) so these tests depend on querying alone.
    pk = "INTEGER PRIMARY KEY AUTOINCREMENT" if backend == "sqlite" else "SERIAL PRIMARY KEY"
    conn.execute(f"CREATE TABLE rt_publisher (id {pk}, name VARCHAR(50) NOT NULL)")
    conn.execute(
        f"CREATE TABLE rt_author (id {pk}, name VARCHAR(50) NOT NULL, "
        "publisher_id INTEGER NOT NULL REFERENCES rt_publisher (id))"
    )
    conn.execute(f"CREATE TABLE rt_tag (id {pk}, label VARCHAR(30) NOT NULL)")
    conn.execute(f"CREATE TABLE rt_article (id {pk}, title VARCHAR(50) NOT NULL)")
    conn.execute(
        f"CREATE TABLE rt_article_tags (id {pk}, article_id INTEGER NOT NULL REFERENCES rt_article (id), "
        "tag_id INTEGER NOT NULL REFERENCES rt_tag (id), UNIQUE (article_id, tag_id))"
    )
    publishers = [Publisher.objects.create(name=f"pub {i}") for i in range(4)]
    for i in range(8):
        Author.objects.create(name=f"author {i}", publisher=publishers[i % 4])
    tags = [Tag.objects.create(label=f"tag {i}") for i in range(3)]
    for i in range(8):
        article = Article.objects.create(title=f"article {i}")
        article.tags.add(tags[i % 3], tags[(i + 1) % 3])
    yield backend
    for table in tables:
        conn.execute(f"DROP TABLE IF EXISTS {q(table)}")


def handler_fk() -> list[str]:
    return [author.publisher.name for author in Author.objects.all()]


def handler_m2m() -> list[list[str]]:
    return [[t.label for t in art.tags.all()] for art in Article.objects.all()]


def test_seed_fk_symptom_named_with_its_fix(orm: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector

    with pytest.raises(dorm.NPlusOneError) as info:
        with NPlusOneDetector(threshold=5):
            handler_fk()
    message = str(info.value)
    assert "ran 8 times, more than the threshold of 5 (caused by Author.publisher)" in message
    assert 'select_related("publisher")' in message
    assert '"rt_publisher"' in message


def test_seed_fk_fixed_with_select_related(orm: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector

    with NPlusOneDetector(threshold=5) as detector:
        names = [a.publisher.name for a in Author.objects.select_related("publisher")]
    assert sorted(names) == sorted(handler_fk())
    assert sum(detector.counts.values()) == 1


def test_seed_m2m_symptom_named_with_its_fix(orm: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector

    with NPlusOneDetector(threshold=5, raise_on_detect=False) as detector:
        handler_m2m()
    (finding,) = detector.findings
    assert finding.count == 8
    assert finding.origin == "Article.tags"
    assert 'prefetch_related("tags")' in finding.suggestion
    assert "Article.tags" in detector.report()


def test_seed_m2m_fixed_with_prefetch_related(orm: str) -> None:
    from dorm.contrib.nplusone import assert_no_nplusone

    with assert_no_nplusone(threshold=1) as detector:
        labels = [[t.label for t in art.tags.all()] for art in Article.objects.prefetch_related("tags")]
    assert sorted(map(sorted, labels)) == sorted(map(sorted, handler_m2m()))
    assert sum(detector.counts.values()) == 2


def test_seed_reverse_fk_suggests_prefetch(orm: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector

    with NPlusOneDetector(threshold=3, raise_on_detect=False) as detector:
        for publisher in Publisher.objects.all():
            list(publisher.authors.all())
    (finding,) = detector.findings
    assert finding.origin == "Publisher.authors"
    assert 'prefetch_related("authors")' in finding.suggestion
    with assert_no_nplusone_helper(threshold=1):
        for publisher in Publisher.objects.prefetch_related("authors"):
            list(publisher.authors.all())


def assert_no_nplusone_helper(threshold: int) -> Any:
    from dorm.contrib.nplusone import assert_no_nplusone

    return assert_no_nplusone(threshold=threshold)


async def test_seed_async_orm(orm: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector

    with pytest.raises(dorm.NPlusOneError, match="ran 8 times"):
        async with NPlusOneDetector(threshold=5):
            async for author in Author.objects.all():
                publisher = await Publisher.objects.aget(pk=author.publisher_id)  # the async-shaped lazy load
                assert publisher.name
    async with NPlusOneDetector(threshold=5) as detector:
        names = [a.publisher.name async for a in Author.objects.select_related("publisher")]
    assert len(names) == 8 and sum(detector.counts.values()) == 1


# -- budgets and per-alias breakers on the ORM (the models above) -------------------------------------


def test_budget_rows_on_a_queryset(orm: str) -> None:
    with pytest.raises(dorm.BudgetExceeded, match=r"Query returned 8 rows, exceeds active budget \(max_rows=5\)"):
        with dorm.budget(max_rows=5):
            list(Author.objects.all())
    with dorm.budget(max_rows=5):  # the seed's fix: tighten the filter / limit
        assert len(Author.objects.order_by("id")[:5]) == 5
        assert Author.objects.filter(name="author 3").count() == 1


async def test_budget_rows_on_an_async_queryset(orm: str) -> None:
    with pytest.raises(dorm.BudgetExceeded, match="Query returned 8 rows"):
        async with dorm.budget(max_rows=5):
            [a async for a in Author.objects.all()]
    async with dorm.budget(max_rows=5):
        assert len([a async for a in Author.objects.filter(name__in=["author 1", "author 2"])]) == 2


def test_budget_max_queries_catches_the_n_plus_one(orm: str) -> None:
    with pytest.raises(dorm.BudgetExceeded, match=r"max_queries=3"):
        with dorm.budget(max_queries=3):
            [a.publisher.name for a in Author.objects.all()]
    with dorm.budget(max_queries=1):
        [a.publisher.name for a in Author.objects.select_related("publisher")]


def test_orm_prefetches_that_return_no_rows_are_not_reported(orm: str) -> None:
    """Six different reads each prefetch the (empty) tags of new articles: the same
    prefetch template runs six times, but finds nothing, so it is not an N+1."""
    fresh = [Article.objects.create(title=f"fresh {i}") for i in range(6)]
    lookups = ["pk", "title", "title__startswith", "title__endswith", "title__contains", "pk__lte"]
    values = [fresh[0].pk, "fresh 1", "fresh 2", "fresh 3", "fresh 4", fresh[5].pk]
    with own_module.NPlusOneDetector(threshold=5, raise_on_detect=False) as detector:
        for lookup, value in zip(lookups, values, strict=True):
            qs = Article.objects.filter(**{lookup: value}).filter(title__startswith="fresh")
            list(qs.filter(pk=fresh[lookups.index(lookup)].pk).prefetch_related("tags"))
    assert detector.findings == []


def test_orm_prefetches_that_return_rows_are_counted(orm: str) -> None:
    """The control: the same loop over articles that do have tags is reported."""
    articles = list(Article.objects.filter(title__startswith="article"))
    lookups = ["pk", "title", "title__startswith", "title__endswith", "title__contains", "pk__lte"]
    with own_module.NPlusOneDetector(threshold=5, raise_on_detect=False) as detector:
        for lookup, article in zip(lookups, articles, strict=False):
            value = article.pk if lookup in ("pk", "pk__lte") else article.title
            list(Article.objects.filter(**{lookup: value}).filter(pk=article.pk).prefetch_related("tags"))
    assert len(detector.findings) == 1
    assert detector.findings[0].count == 6


# -- streamed statements (qs.iterator()) --------------------------------------------------------------


def test_streamed_queries_count_once_each(orm: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector

    with NPlusOneDetector(threshold=1) as detector:
        assert len(list(Author.objects.iterator(chunk_size=3))) == 8
    assert list(detector.counts.values()) == [1]
    with pytest.raises(dorm.NPlusOneError, match="ran 4 times"):
        with NPlusOneDetector(threshold=3):
            for publisher in Publisher.objects.order_by("id").iterator(chunk_size=1):
                assert len(list(Author.objects.filter(publisher=publisher).iterator())) == 2


async def test_async_streamed_queries_count_once_each(orm: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector

    async with NPlusOneDetector(threshold=1) as detector:
        assert len([a async for a in Author.objects.aiterator(chunk_size=3)]) == 8
    assert list(detector.counts.values()) == [1]


def test_an_abandoned_stream_still_counts(orm: str) -> None:
    from dorm.contrib.nplusone import NPlusOneDetector

    with NPlusOneDetector(threshold=5) as detector:
        for _ in Author.objects.iterator(chunk_size=2):
            break
    assert list(detector.counts.values()) == [1]
