"""Meta-tests: docs/architecture.md's repository map, the noxfile's package table, the pyprojects,
the README commands and .ci/run all agree."""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
VERSION = "2.0.0"


def pyproject(folder: str) -> dict[str, Any]:
    with open(REPO / folder / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def parse_entry_points(cell: str) -> dict[str, dict[str, str]]:
    """``\\`djanorm.backends\\`: \\`sqlite\\`, \\`sqlite3\\` → \\`dorm_sqlite.base:DatabaseWrapper\\``` etc."""
    groups: dict[str, dict[str, str]] = {}
    for part in (p.strip() for p in cell.split(";")):
        if not part or part.startswith("(") or part == "none" or part.startswith("meta-distribution"):
            continue
        script = re.fullmatch(r"console script `(\S+) = (\S+)`", part)
        if script:
            groups.setdefault("console_scripts", {})[script[1]] = script[2]
            continue
        match = re.fullmatch(r"`([\w.]+)`: (.+?) → `([\w.:]+)`", part)
        assert match, f"cannot read entry point cell part {part!r}"
        for name in re.findall(r"`([\w.]+)`", match[2]):
            groups.setdefault(match[1], {})[name] = match[3]
    return groups


def architecture_rows() -> list[dict[str, Any]]:
    text = (REPO / "docs" / "architecture.md").read_text()
    section = text.split("## Repository map", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("folder", "---") or set(cells[0]) <= {"-"}:
            continue
        folder = re.sub(r"`([^`]*)`.*", r"\1", cells[0])
        imp = cells[2].strip("`")
        rows.append(
            {
                "folder": folder,
                "dist": cells[1],
                "import": None if imp == "none" else imp,
                "entry_points": parse_entry_points(cells[3]),
            }
        )
    return rows


ROWS = architecture_rows()


def load_noxfile() -> ModuleType:
    pytest.importorskip("nox", reason="the noxfile imports nox (installed in the nox session)")
    spec = importlib.util.spec_from_file_location("djanorm_noxfile", REPO / "noxfile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("djanorm_noxfile", module)
    spec.loader.exec_module(module)
    return module


def in_repo_requirements(project: dict[str, Any], names: set[str]) -> dict[str, str]:
    found = {}
    for requirement in project.get("dependencies", []):
        match = re.match(r"([A-Za-z0-9_.-]+)\s*(.*)", requirement)
        assert match
        if match[1] in names:
            found[match[1]] = match[2].strip()
    return found


def test_architecture_table_lists_every_package_folder() -> None:
    folders = {row["folder"] for row in ROWS}
    on_disk = {f"packages/{p.name}" for p in (REPO / "packages").iterdir() if (p / "pyproject.toml").exists()}
    assert folders == on_disk | {"."}


@pytest.mark.parametrize("row", ROWS, ids=[r["dist"] for r in ROWS])
def test_pyproject_agrees_with_architecture_table(row: dict[str, Any]) -> None:
    data = pyproject(row["folder"])
    project = data["project"]
    assert project["name"] == row["dist"]
    assert project["version"] == VERSION
    assert project["requires-python"] == ">=3.11"
    assert data["build-system"]["build-backend"] == "hatchling.build"
    declared: dict[str, dict[str, str]] = {group: dict(eps) for group, eps in project.get("entry-points", {}).items()}
    if project.get("scripts"):
        declared["console_scripts"] = dict(project["scripts"])
    assert declared == row["entry_points"]
    folder = REPO / row["folder"]
    assert (folder / "README.md").is_file()
    if row["import"] is None:
        assert data["tool"]["hatch"]["build"]["targets"]["wheel"].get("bypass-selection") is True
        return
    src = folder / "src" / row["import"]
    assert (src / "py.typed").is_file()
    assert (src / "__init__.py").is_file(), f"{src} must be an importable package"
    assert data["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [f"src/{row['import']}"]
    assert (folder / "tests").is_dir()
    for group, eps in row["entry_points"].items():
        for target in eps.values():
            module = target.split(":", 1)[0]
            assert module == row["import"] or module.startswith(row["import"] + "."), (group, target)
            path = REPO / row["folder"] / "src" / Path(*module.split("."))
            assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), f"{module} missing"


def test_only_dorm_core_ships_files_under_dorm() -> None:
    for package in (REPO / "packages").iterdir():
        if package.name != "dorm-core":
            assert not (package / "src" / "dorm").exists(), package


@pytest.mark.parametrize("row", ROWS, ids=[r["dist"] for r in ROWS])
def test_in_repo_dependencies_are_pinned_to_our_version(row: dict[str, Any]) -> None:
    ours = {r["dist"] for r in ROWS}
    for name, spec in in_repo_requirements(pyproject(row["folder"])["project"], ours).items():
        assert spec == f"=={VERSION}", f"{row['dist']} depends on {name}{spec}; pin =={VERSION}"


def test_meta_distribution_extras() -> None:
    project = pyproject(".")["project"]
    assert project["name"] == "djanorm"
    assert sorted(project["dependencies"]) == [f"dorm-core=={VERSION}", f"dorm-sqlite=={VERSION}"]
    extras = project["optional-dependencies"]
    assert extras["postgresql"] == extras["postgres"] == [f"dorm-postgres=={VERSION}"]
    assert extras["duckdb"] == [f"dorm-duckdb=={VERSION}"]
    assert extras["tenancy"] == [f"dorm-tenancy=={VERSION}"]
    assert extras["resilience"] == [f"dorm-resilience=={VERSION}"]
    assert sorted(extras["all"]) == sorted({d for name, ds in extras.items() if name != "all" for d in ds})


def test_noxfile_package_table_agrees_with_pyprojects() -> None:
    noxfile = load_noxfile()
    by_dist = {row["dist"]: row for row in ROWS}
    assert set(noxfile.PACKAGES) == set(by_dist)
    for dist, package in noxfile.PACKAGES.items():
        row = by_dist[dist]
        assert package.folder == row["folder"]
        assert package.import_name == row["import"]
        declared = in_repo_requirements(pyproject(row["folder"])["project"], set(by_dist))
        assert set(package.requires) == set(declared), f"noxfile PACKAGES[{dist!r}].requires"
        for name in package.test_requires:
            assert name in by_dist
    # the core's behaviour tests run on both built-in SQL backends
    assert {"dorm-sqlite", "dorm-postgres"} <= set(noxfile.PACKAGES["dorm-core"].test_requires)
    assert noxfile.nox.options.sessions == ["tests", "lint", "typecheck", "demo"]


# --------------------------------------------------------------------------
# README and .ci/run
# --------------------------------------------------------------------------


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    return re.findall(r"```sh\n(.*?)\n```", text, flags=re.S)


def test_readme_starts_with_exactly_two_commands() -> None:
    text = (REPO / "README.md").read_text()
    head = text.split("---", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)\n```", head, flags=re.S)
    assert len(blocks) == 2
    install, test = blocks
    for command in blocks:
        assert "\n" not in command
        assert command.startswith("python3 -m venv .venv && . .venv/bin/activate && ")
    # our packages by path, all in one pip call, then the demo
    assert re.search(
        r"pip install \./packages/dorm-core \./packages/dorm-sqlite \. && python examples/demo\.py$", install
    )
    assert test.endswith("pip install nox && nox")
    assert "not this project" in text or "unrelated project" in text


def test_ci_run_uses_the_readme_test_command() -> None:
    script = (REPO / ".ci" / "run").read_text()
    test_command = readme_commands()[1]
    assert test_command in script.splitlines()
    assert "export DORM_TEST_REQUIRE_POSTGRES=1" in script
    assert (REPO / ".ci" / "run").stat().st_mode & 0o111, ".ci/run must be executable"


def test_demo_script_exists() -> None:
    assert (REPO / "examples" / "demo.py").is_file()
