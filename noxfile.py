"""Sessions for the djanorm monorepo.  Packages are data: see ``PACKAGES``.

    nox                          # what CI runs: tests (every package), lint, typecheck, demo
    nox -s "tests(dorm-core)"    # one package's tests
    nox -s import_time bench     # measurements (not in the default run)
    nox -R                       # reuse the venvs of a previous run (fast local loop)

Our distributions are always installed from this checkout by path, every
path in one pip call, so pip resolves ``dorm-core==2.0.0`` & co. to these
folders and never asks an index for one of our names (an unrelated project
publishes a package named ``djanorm``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nox

ROOT = Path(__file__).parent

nox.options.sessions = ["tests", "lint", "typecheck", "demo"]
nox.options.error_on_missing_interpreters = False
nox.options.reuse_existing_virtualenvs = False  # CI builds fresh venvs; use `nox -R` locally


@dataclass(frozen=True)
class Package:
    """One distribution of the monorepo.

    ``requires``: in-repo runtime dependencies (must match its pyproject).
    ``test_requires``: in-repo distributions its tests also need (e.g. the
    core's behaviour tests run on SQLite and PostgreSQL).
    ``test_deps``: third-party test dependencies.
    ``allow_no_tests``: pytest's exit code 5 ("no tests collected") is a
    success; only for a package that legitimately has no tests yet.
    """

    folder: str
    import_name: str | None
    requires: tuple[str, ...] = ()
    test_requires: tuple[str, ...] = ()
    test_deps: tuple[str, ...] = ()
    tests: str = "tests"
    allow_no_tests: bool = False
    pytest_args: tuple[str, ...] = ()


PYTEST = ("pytest>=8", "pytest-asyncio>=0.26", "hypothesis>=6", "pytest-timeout>=2")
#: A single test that runs longer than this fails (with its stack) instead of hanging the whole run.
TEST_TIMEOUT_SECONDS = 120

PACKAGES: dict[str, Package] = {
    "dorm-core": Package(
        "packages/dorm-core",
        "dorm",
        test_requires=("dorm-sqlite", "dorm-postgres", "pytest-djanorm"),
        # conftest.py uses pytest_djanorm.backends (the alias matrix);
        # kernel/test_install.py builds throwaway venvs with --no-build-isolation;
        # models/test_typing.py runs mypy over typed model code.
        test_deps=("hatchling>=1.24", "editables", "mypy>=1.10"),
    ),
    # tests/test_suite.py runs pytest-djanorm's conformance suite.
    "dorm-sqlite": Package(
        "packages/dorm-sqlite", "dorm_sqlite", requires=("dorm-core",), test_requires=("pytest-djanorm",)
    ),
    "dorm-postgres": Package(
        "packages/dorm-postgres", "dorm_postgres", requires=("dorm-core",), test_requires=("pytest-djanorm",)
    ),
    "dorm-duckdb": Package(
        "packages/dorm-duckdb", "dorm_duckdb", requires=("dorm-core",), test_requires=("pytest-djanorm",)
    ),
    "dorm-tenancy": Package(
        "packages/dorm-tenancy",
        "dorm_tenancy",
        requires=("dorm-core",),
        test_requires=("dorm-sqlite", "dorm-postgres", "pytest-djanorm"),
    ),
    "dorm-resilience": Package(
        "packages/dorm-resilience",
        "dorm_resilience",
        requires=("dorm-core",),
        test_requires=("dorm-sqlite", "dorm-postgres"),
    ),
    "pytest-djanorm": Package(
        "packages/pytest-djanorm",
        "pytest_djanorm",
        requires=("dorm-core",),
        # the pytester projects use the nplusone fixture (dorm-resilience) and run `-n 2` (pytest-xdist).
        test_requires=("dorm-sqlite", "dorm-postgres", "dorm-resilience"),
        test_deps=("pytest-xdist>=3",),
    ),
    "djanorm-mypy": Package(
        "packages/djanorm-mypy", "djanorm_mypy", requires=("dorm-core",), test_requires=("dorm-tenancy",)
    ),  # a golden case checks dorm-tenancy's typed managers
    # The meta-distribution; its tests (tests/ at the root) check the packaging itself.
    "djanorm": Package(".", None, requires=("dorm-core", "dorm-sqlite"), test_deps=("nox",)),
}


def install_closure(names: tuple[str, ...]) -> list[str]:
    """``names`` plus their in-repo runtime dependencies, in dependency order."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        for dep in PACKAGES[name].requires:
            visit(dep)
        ordered.append(name)

    for name in names:
        visit(name)
    return ordered


def install_local(session: nox.Session, names: tuple[str, ...], *extra: str) -> None:
    """Install in-repo distributions by path (one pip call) plus third-party ``extra`` packages.

    Build isolation is off, so hatchling is installed first; a package whose
    pyproject misses a dependency still fails at import time in its tests.
    """
    session.install("hatchling>=1.24", "editables")
    paths = [PACKAGES[name].folder for name in install_closure(names)]
    session.install("--no-build-isolation", *(f"./{p}" if p != "." else "." for p in paths), *extra)


def _pytest_success_codes(package: Package) -> list[int]:
    return [0, 5] if package.allow_no_tests else [0]


@nox.session
@nox.parametrize("package", list(PACKAGES), ids=list(PACKAGES))
def tests(session: nox.Session, package: str) -> None:
    """Run one package's tests with only that package, its in-repo deps and its test deps installed."""
    spec = PACKAGES[package]
    install_local(session, (package, *spec.test_requires), *PYTEST, *spec.test_deps)
    tests_dir = spec.tests if spec.folder == "." else f"{spec.folder}/{spec.tests}"
    args = [f"--timeout={TEST_TIMEOUT_SECONDS}", *(session.posargs or [tests_dir, *spec.pytest_args])]
    # Exit code 5 ("no tests ran") fails the session unless the package is allowed to have none.
    session.run("python", "-m", "pytest", *args, success_codes=_pytest_success_codes(spec))


#: Backends that run pytest-djanorm's conformance suite (their ``tests/test_suite.py``).
CONFORMANCE = ("dorm-sqlite", "dorm-postgres")


@nox.session
@nox.parametrize("backend", list(CONFORMANCE), ids=list(CONFORMANCE))
def conformance(session: nox.Session, backend: str) -> None:
    """A backend against pytest-djanorm's conformance suite, installed as a third party would."""
    spec = PACKAGES[backend]
    install_local(session, (backend, "pytest-djanorm"), *PYTEST)
    args = [f"--timeout={TEST_TIMEOUT_SECONDS}", *(session.posargs or [f"{spec.folder}/tests/test_suite.py"])]
    session.run("python", "-m", "pytest", *args)


@nox.session(reuse_venv=True)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole repository (config: root pyproject.toml)."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", ".", *session.posargs)
    session.run("ruff", "format", "--check", ".")


@nox.session(reuse_venv=True)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on dorm-core (config: root pyproject.toml)."""
    install_local(session, ("dorm-core",), "mypy>=1.10")
    session.run("mypy", "--strict", *(session.posargs or ["packages/dorm-core/src"]))


@nox.session
def demo(session: nox.Session) -> None:
    """The README's demo: the meta-distribution installed from the checkout, then examples/demo.py."""
    install_local(session, ("djanorm",))
    with session.chdir(session.create_tmp()):  # the demo must not depend on the checkout's cwd
        session.run("python", str(ROOT / "examples" / "demo.py"))


@nox.session
def import_time(session: nox.Session) -> None:
    """Measure ``import dorm`` with every distribution installed (best of N fresh interpreters)."""
    install_local(session, tuple(PACKAGES))
    session.run("python", str(ROOT / "tests" / "packaging" / "measure_import.py"), *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """``bench/run.py`` (ORM overhead against the raw drivers); not part of the default run."""
    script = ROOT / "bench" / "run.py"
    if not script.exists():
        session.skip("bench/run.py does not exist yet")
    install_local(session, tuple(PACKAGES))
    session.run("python", str(script), *session.posargs)  # e.g. nox -s bench -- --backend sqlite --quick


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site (mkdocs, Material theme) into ``site/``; not part of the default run.

    ``--strict``: a broken link, a missing anchor or a page left out of the nav fails the build.
    """
    config = ROOT / "mkdocs.yml"
    if not config.exists():
        session.skip("no mkdocs.yml yet")
    session.install("mkdocs>=1.6,<2", "mkdocs-material>=9.5,<10")
    session.run("mkdocs", "build", "--strict", "-f", str(config), "-d", str(ROOT / "site"), *session.posargs)


@nox.session
def bench_compare(session: nox.Session) -> None:
    """``bench/compare.py``: djanorm vs raw, Django, SQLAlchemy, Tortoise; not part of the default run.

    Each competitor gets its own virtualenv under ``bench/.venvs/`` (created by
    the script with pip), never this session's and never a dependency of ours.
    """
    install_local(session, tuple(PACKAGES))
    session.run("python", str(ROOT / "bench" / "compare.py"), *session.posargs)
