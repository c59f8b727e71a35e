"""Install tests: real throwaway virtualenvs with only some of our distributions (slow, run in CI).

One plain venv gets ``packages/dorm-core`` and ``packages/dorm-sqlite`` (by path, one
pip call, like the README); the tests then add and remove fixture distributions
in it.  Builds run without isolation (hatchling is installed in the venv
first), which keeps each install to a second or two.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[4]
CORE = REPO / "packages" / "dorm-core"
SQLITE = REPO / "packages" / "dorm-sqlite"


class Venv:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.python = str(path / "bin" / "python")

    def pip(self, *args: str) -> None:
        done = subprocess.run(
            [self.python, "-m", "pip", "--disable-pip-version-check", *args], capture_output=True, text=True
        )
        assert done.returncode == 0, f"pip {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"

    def install(self, *paths: Path, editable: bool = False) -> None:
        flags = ["install", "-q", "--no-build-isolation"]
        self.pip(*flags, *(arg for p in paths for arg in (["-e", str(p)] if editable else [str(p)])))

    def run(self, code: str, cwd: Path | None = None) -> str:
        """Run ``code`` in the venv's interpreter; returns stdout, fails the test on a non-zero exit."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DORM_", "PYTHON"))}
        done = subprocess.run(
            [self.python, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=cwd, env=env
        )
        assert done.returncode == 0, f"script failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venv]:
    """A plain venv with dorm-core and dorm-sqlite only (installed from the checkout, one pip call)."""
    root = tmp_path_factory.mktemp("core-sqlite-venv")
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True)
    env = Venv(root / "venv")
    env.pip("install", "-q", "hatchling>=1.24", "editables")
    env.install(CORE, SQLITE)
    yield env
    shutil.rmtree(root, ignore_errors=True)


def copy_fixture(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return target


# --------------------------------------------------------------------------
# (a) only dorm-core + dorm-sqlite
# --------------------------------------------------------------------------


def test_only_core_and_sqlite_are_installed(venv: Venv) -> None:
    out = venv.run(
        """
        import json
        from importlib.metadata import distributions
        print(json.dumps(sorted(d.metadata["Name"] for d in distributions())))
        """
    )
    names = set(json.loads(out))
    ours = {n for n in names if n.startswith(("dorm", "djanorm", "pytest-djanorm"))}
    assert ours == {"dorm-core", "dorm-sqlite"}


def test_import_dorm_imports_no_driver_and_loads_no_plugin(venv: Venv) -> None:
    out = venv.run(
        """
        import json, sys
        import dorm
        kernel = sys.modules["dorm.plugins"].kernel if "dorm.plugins" in sys.modules else None
        print(json.dumps({"modules": sorted(sys.modules), "plugins": len(kernel.pm.get_plugins()) if kernel else 0}))
        """
    )
    seen = json.loads(out)
    modules = set(seen["modules"])
    assert {"sqlite3", "_sqlite3", "psycopg", "duckdb"}.isdisjoint(modules)
    assert not any(m.startswith("dorm_") for m in modules)
    assert seen["plugins"] == 0


def test_raw_sql_on_sqlite_works(venv: Venv, tmp_path: Path) -> None:
    out = venv.run(
        f"""
        import dorm
        dorm.configure(DATABASES={{"default": {{"ENGINE": "sqlite", "NAME": {str(tmp_path / "a.db")!r}}}}})
        conn = dorm.get_connection()
        conn.execute_script("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
        conn.execute("INSERT INTO t (name) VALUES (%s)", ["x"])
        try:
            conn.execute("INSERT INTO t (name) VALUES (%s)", ["x"])
        except dorm.IntegrityError:
            print("integrity ok")
        print(conn.execute("SELECT id, name FROM t WHERE name = %s", ["x"]))
        """
    )
    assert out.splitlines() == ["integrity ok", "[(1, 'x')]"]


def test_budget_says_to_install_resilience(venv: Venv) -> None:
    out = venv.run(
        """
        import dorm
        try:
            from dorm import budget
        except ImportError as exc:
            print(type(exc).__name__, exc)
        """
    )
    assert out.startswith("MissingPluginError ")
    assert "pip install 'djanorm[resilience]'" in out


def test_contrib_nplusone_says_to_install_resilience(venv: Venv) -> None:
    out = venv.run(
        """
        try:
            import dorm.contrib.nplusone
        except ImportError as exc:
            print(type(exc).__name__, exc)
        """
    )
    assert out.startswith("MissingPluginError ")
    assert "pip install 'djanorm[resilience]'" in out


def test_duckdb_engine_says_to_install_the_extra(venv: Venv, tmp_path: Path) -> None:
    out = venv.run(
        f"""
        import dorm
        dorm.configure(DATABASES={{"default": {{"ENGINE": "duckdb", "NAME": {str(tmp_path / "w.duckdb")!r}}}}})
        try:
            dorm.get_connection().execute("SELECT 1")
        except dorm.ImproperlyConfigured as exc:
            print(exc)
        """
    )
    assert out.startswith("Unsupported database engine: 'duckdb'")
    assert "pip install 'djanorm[duckdb]'" in out


def test_settings_py_in_cwd_and_not_configured(venv: Venv, tmp_path: Path) -> None:
    probe = """
        import dorm
        try:
            print(dorm.get_connection().execute("SELECT 7"))
        except dorm.ImproperlyConfigured as exc:
            print(str(exc).splitlines()[0])
        """
    assert venv.run(probe, cwd=tmp_path).startswith("DATABASES is not configured")
    (tmp_path / "settings.py").write_text(
        f"DATABASES = {{'default': {{'ENGINE': 'sqlite', 'NAME': {str(tmp_path / 's.db')!r}}}}}\n"
    )
    assert venv.run(probe, cwd=tmp_path).strip() == "[(7,)]"


# --------------------------------------------------------------------------
# (b) a plugin's dorm.contrib.<name>, regular and editable installs
# --------------------------------------------------------------------------


@pytest.mark.parametrize("editable", [False, True], ids=["regular", "editable"])
def test_contrib_module_from_a_plugin(venv: Venv, tmp_path: Path, editable: bool) -> None:
    source = copy_fixture("demo-contrib", tmp_path)
    venv.install(source, editable=editable)
    try:
        out = venv.run(
            """
            import sys
            import dorm.contrib.demo
            import dorm_demo_contrib.mod
            from dorm.contrib import demo
            assert dorm.contrib.demo is dorm_demo_contrib.mod is demo
            assert sys.modules["dorm.contrib.demo"] is sys.modules["dorm_demo_contrib.mod"]
            print(demo.ANSWER, demo.where(), demo.__file__)
            """
        )
    finally:
        venv.pip("uninstall", "-y", "-q", "djanorm-demo-contrib")
    answer, where, file = out.split()
    assert (answer, where) == ("42", "dorm_demo_contrib.mod")
    if editable:
        assert Path(file).is_relative_to(source)
    else:
        assert "site-packages" in Path(file).parts
    # and gone again once uninstalled
    gone = venv.run(
        """
        try:
            import dorm.contrib.demo
        except ModuleNotFoundError:
            print("not found")
        """
    )
    assert gone.strip() == "not found"


# --------------------------------------------------------------------------
# (c) a third-party backend found through djanorm.backends, after reset_backend_cache()
# --------------------------------------------------------------------------


def test_third_party_backend_installed_while_running(venv: Venv, tmp_path: Path) -> None:
    source = copy_fixture("fake-backend", tmp_path)
    try:
        out = venv.run(
            f"""
            import subprocess, sys
            import dorm

            def attempt():
                try:
                    return dorm.get_connection().execute("SELECT 40 + 2")
                except dorm.ImproperlyConfigured as exc:
                    return str(exc).split(".")[0]

            dorm.configure(DATABASES={{"default": {{"ENGINE": "fakedb", "NAME": {str(tmp_path / "f.db")!r}}}}})
            print(attempt())
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-build-isolation",
                            {str(source)!r}], check=True)
            print(attempt())
            dorm.reset_backend_cache()
            print(attempt())
            print(type(dorm.get_connection().backend).__module__)
            dorm.reset_backend_cache()
            print(attempt())
            """
        )
    finally:
        venv.pip("uninstall", "-y", "-q", "djanorm-fake-backend")
    assert out.splitlines() == [
        "Unsupported database engine: 'fakedb'",
        "Unsupported database engine: 'fakedb'",  # still cached: nothing rescans on its own
        "[(42,)]",
        "fake_backend.base",
        "[(42,)]",
    ]
