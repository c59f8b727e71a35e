"""Golden-file tests: each ``cases/case_*.py`` line ending in ``# E: <message>  [code]`` must be
exactly what mypy reports for that line with the plugin configured, and no other line may be reported.

mypy runs twice in all (it is slow): once over every case with ``plugins = ["djanorm_mypy"]`` in a
``pyproject.toml``, once over the typo case without the plugin (the seed's cause: nothing reported).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from mypy import api

CASES = Path(__file__).parent / "cases"
CASE_FILES = sorted(CASES.glob("case_*.py"))
_EXPECT = re.compile(r"#\s*E:\s*(?P<message>.+?)\s*$")
_REPORTED = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<severity>error|note): (?P<message>.+)$")


def _expected(path: Path) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            found.setdefault(number, []).append(match["message"])
    return found


def _reported(output: str) -> dict[tuple[str, int], list[str]]:
    found: dict[tuple[str, int], list[str]] = {}
    for line in output.splitlines():
        match = _REPORTED.match(line)
        if match:
            found.setdefault((Path(match["file"]).name, int(match["line"])), []).append(match["message"])
    return found


def _run(workdir: Path, config: str, files: list[str], cache: Path) -> tuple[str, int]:
    (workdir / "pyproject.toml").write_text(config)
    out, err, status = api.run(
        ["--config-file", str(workdir / "pyproject.toml"), "--cache-dir", str(cache), "--no-error-summary", *files]
    )
    assert "Traceback" not in out + err and "INTERNAL ERROR" not in out + err, out + err
    return (out, status)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("djanorm_mypy")
    for path in CASES.glob("*.py"):
        shutil.copy(path, work / path.name)
    return work


@pytest.fixture(scope="module")
def with_plugin(workdir: Path) -> dict[tuple[str, int], list[str]]:
    config = '[tool.mypy]\nplugins = ["djanorm_mypy"]\nshow_error_codes = true\n'
    files = [str(workdir / p.name) for p in CASE_FILES] + [str(workdir / "late_models.py")]
    out, _ = _run(workdir, config, files, workdir / ".cache-plugin")
    return _reported(out)


@pytest.mark.parametrize("case", CASE_FILES, ids=lambda p: p.stem)
def test_case_matches_its_expected_errors(case: Path, with_plugin: dict[tuple[str, int], list[str]]) -> None:
    expected = _expected(case)
    got = {line: messages for (name, line), messages in with_plugin.items() if name == case.name}
    assert got == expected


def test_models_modules_are_clean(with_plugin: dict[tuple[str, int], list[str]]) -> None:
    models = {"models_app.py", "models_extra.py", "late_models.py"}
    assert [key for key in with_plugin if key[0] in models] == []


def test_every_case_expects_something_or_is_the_valid_case() -> None:
    # a golden file with no markers must be the "nothing reported" case, not a forgotten one
    assert {p.stem for p in CASE_FILES if not _expected(p)} == {"case_valid"}


def test_incremental_run_reads_models_from_the_cache(
    workdir: Path, with_plugin: dict[tuple[str, int], list[str]]
) -> None:
    """Re-check one case while ``models_app`` comes from mypy's cache (no class bodies there, only metadata)."""
    case = workdir / "case_relations.py"
    case.write_text(case.read_text() + "\n# edited: forces a re-check of this module only\n")
    config = '[tool.mypy]\nplugins = ["djanorm_mypy"]\nshow_error_codes = true\n'
    out, _ = _run(workdir, config, [str(case), str(workdir / "models_app.py")], workdir / ".cache-plugin")
    got = {line: messages for (name, line), messages in _reported(out).items() if name == case.name}
    assert got == _expected(CASES / "case_relations.py")


def test_without_the_plugin_the_typo_is_not_reported(workdir: Path) -> None:
    """The seed entry's cause: without the plugin, mypy sees ``filter(**kwargs: Any)``."""
    config = "[tool.mypy]\nshow_error_codes = true\n"
    out, status = _run(workdir, config, [str(workdir / "case_typos.py")], workdir / ".cache-plain")
    assert status == 0, out
    assert "naem" not in out
