"""The fixtures in a user's project (SQLite, and PostgreSQL when reachable), run by pytester."""

from __future__ import annotations

from collections.abc import Callable

import pytest

BASIC = """
import dorm
import pytest
from dorm import transaction
from library.models import Author, Book


def test_write(transactional_db):
    Author.objects.create(name="a")
    assert Author.objects.count() == 1


def test_rows_vanished(db):
    assert Author.objects.count() == 0


def test_migration_was_applied(db):
    rows = dorm.get_connection().execute("SELECT app, name FROM dorm_migrations")
    assert ("library", "0001_initial") in rows


def test_nested_atomic_is_a_savepoint(db):
    Author.objects.create(name="keep")
    with pytest.raises(dorm.IntegrityError), transaction.atomic():
        Author.objects.create(name="keep")
    assert Author.objects.count() == 1


async def test_async_write(atransactional_db):
    await Author.objects.acreate(name="b")
    assert await Author.objects.acount() == 1


async def test_async_rows_vanished(atransactional_db):
    assert await Author.objects.acount() == 0


def test_live_commits(live_db):
    ran = []
    with transaction.atomic():
        a = Author.objects.create(name="live")
        Book.objects.create(title="t", author=a)
        transaction.on_commit(lambda: ran.append("committed"))
    assert ran == ["committed"]


def test_live_rows_were_cleaned(db):
    assert Author.objects.count() == 0 and Book.objects.count() == 0


def test_test_database_name(db):
    name = str(dorm.conf.settings.database("default")["NAME"])
    assert "test_" in name and name != "app.sqlite3"
"""


def test_fixtures_are_found_through_the_entry_point(project: Callable[..., pytest.Pytester]) -> None:
    pytester = project()
    result = pytester.runpytest_subprocess("--fixtures")
    listed = {line.split(" ", 1)[0] for line in result.stdout.lines}
    wanted = {
        "transactional_db",
        "db",
        "atransactional_db",
        "live_db",
        "assert_num_queries",
        "nplusone",
        "djanorm_settings",
        "djanorm_setup_databases",
    }
    assert wanted <= listed, wanted - listed
    result.stdout.fnmatch_lines(["*fixtures defined from pytest_djanorm.plugin*"])


def test_transactional_live_and_async(project: Callable[..., pytest.Pytester], engine: str) -> None:
    pytester = project(engine, tests={"test_app.py": BASIC})
    result = pytester.runpytest_subprocess("-v")
    result.assert_outcomes(passed=9)


def test_models_without_migrations_get_tables(project: Callable[..., pytest.Pytester], engine: str) -> None:
    tests = {
        "test_plain.py": """
            from library.models import Author

            def test_table_exists(db):
                Author.objects.create(name="x")
                assert Author.objects.get(name="x").pk is not None
        """
    }
    result = project(engine, tests=tests, migrations=False).runpytest_subprocess()
    result.assert_outcomes(passed=1)


def test_assert_num_queries_pass_and_fail(project: Callable[..., pytest.Pytester]) -> None:
    tests = {
        "test_queries.py": """
            from library.models import Author

            def test_exact(db, assert_num_queries):
                with assert_num_queries(2):
                    Author.objects.create(name="x")
                    list(Author.objects.all())

            def test_too_many(db, assert_num_queries):
                with assert_num_queries(1):
                    Author.objects.create(name="y")
                    Author.objects.filter(name="y").count()
        """
    }
    result = project(tests=tests).runpytest_subprocess()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: Expected 1 queries, but 2 ran:*",
            "*1. [[]default[]] INSERT INTO*library_author*",
            "*2. [[]default[]] SELECT COUNT(*",
        ]
    )


def test_nplusone_fixture(project: Callable[..., pytest.Pytester]) -> None:
    tests = {
        "test_n1.py": """
            import pytest
            from library.models import Author, Book

            def _books():
                a = Author.objects.create(name="a")
                Book.objects.bulk_create([Book(title=str(i), author=a) for i in range(4)])

            @pytest.mark.nplusone(threshold=2)
            def test_lazy_loop(db, nplusone):
                _books()
                for book in Book.objects.all():
                    book.author.name

            @pytest.mark.nplusone(threshold=2)
            def test_select_related(db, nplusone):
                _books()
                for book in Book.objects.select_related("author"):
                    book.author.name
        """
    }
    result = project(tests=tests).runpytest_subprocess()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*FAILED test_n1.py::test_lazy_loop*NPlusOneError*"])


def test_async_test_with_sync_fixture_is_explained(project: Callable[..., pytest.Pytester]) -> None:
    tests = {"test_wrong.py": "async def test_wrong(db):\n    pass\n"}
    result = project(tests=tests).runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*is an async test but uses `transactional_db`*Use the `atransactional_db` fixture*"])


def test_no_settings_is_explained(project: Callable[..., pytest.Pytester]) -> None:
    tests = {"test_nosettings.py": "def test_x(db):\n    pass\n"}
    result = project(tests=tests, settings=False).runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*pytest-djanorm found no dorm settings*--dorm-settings*djanorm_settings*"])


def test_settings_option_and_fixture_override(project: Callable[..., pytest.Pytester]) -> None:
    tests = {
        "test_opt.py": """
            import dorm
            from library.models import Author

            def test_settings_module(db):
                Author.objects.create(name="x")
                assert dorm.conf.settings.source == "dorm.configure()"
                assert "test_other" in dorm.conf.settings.database("default")["NAME"]
        """
    }
    pytester = project(tests=tests, settings=False)
    pytester.makepyfile(
        conf_mod="DATABASES = {'default': {'ENGINE': 'sqlite', 'NAME': 'other.db'}}\nINSTALLED_APPS = ['library']\n"
    )
    pytester.runpytest_subprocess("--dorm-settings=conf_mod").assert_outcomes(passed=1)

    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def djanorm_settings():
            return {"DATABASES": {"default": {"ENGINE": "sqlite", "NAME": "other.db"}}, "INSTALLED_APPS": ["library"]}
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


def test_report_header_recommends_session_loops(project: Callable[..., pytest.Pytester]) -> None:
    pytester = project(tests={"test_x.py": "def test_x():\n    pass\n"})
    assert "djanorm:" not in pytester.runpytest_subprocess().stdout.str()
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nasyncio_default_test_loop_scope = function\n"
    )
    result = pytester.runpytest_subprocess()
    result.stdout.fnmatch_lines(
        ['djanorm: async tests run on a loop per test*asyncio_default_test_loop_scope = "session"']
    )


def test_symptom_without_the_plugin(project: Callable[..., pytest.Pytester]) -> None:
    """The seed's "My transactional_db fixture isn't found": what pytest says when the plugin is absent."""
    pytester = project(tests={"test_app.py": "def test_x(transactional_db):\n    pass\n"})
    result = pytester.runpytest_subprocess("-p", "no:djanorm")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'transactional_db' not found*"])
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


def test_loop_scope_mismatch_is_explained(project: Callable[..., pytest.Pytester]) -> None:
    tests = {
        "test_loops.py": """
            from library.models import Author

            async def test_x(atransactional_db):
                await Author.objects.acount()
        """
    }
    pytester = project(tests=tests)
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = session\n"
        "asyncio_default_test_loop_scope = function\n"
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*atransactional_db would open its transaction on the 'session'-scoped event loop*"])


def test_backend_that_creates_its_own_test_databases(project: Callable[..., pytest.Pytester]) -> None:
    """A third-party server backend: its create/destroy_test_database hooks are used, NAME = test_<NAME>."""
    tests = {
        "mybackend.py": """
            import os

            from dorm_sqlite.base import DatabaseWrapper

            LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "events.log")

            class HookedWrapper(DatabaseWrapper):
                @staticmethod
                def create_test_database(settings_dict):
                    with open(LOG, "a") as log:
                        log.write(f"create {settings_dict['NAME']}\\n")

                @staticmethod
                def destroy_test_database(settings_dict):
                    with open(LOG, "a") as log:
                        log.write(f"destroy {settings_dict['NAME']}\\n")
        """,
        "test_hooked.py": """
            from library.models import Author

            def test_works(db):
                Author.objects.create(name="x")
                assert Author.objects.count() == 1
        """,
    }
    pytester = project(tests=tests, settings=False)
    pytester.makepyfile(
        settings="DATABASES = {'default': {'ENGINE': 'mybackend.HookedWrapper', 'NAME': 'srv.db'}}\nINSTALLED_APPS = ['library']\n"
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    assert (pytester.path / "events.log").read_text().splitlines() == ["create test_srv.db", "destroy test_srv.db"]
