"""Meta-test: every page of docs/ is in mkdocs.yml's nav, and the nav names no missing page.

``mkdocs build --strict`` (``nox -s docs``, not in the default run) fails on a page left out of
the nav; this test catches it in the default run.  The nav is read with a regular expression
over its lines (no YAML dependency): each entry is ``- Title: page.md`` or ``- page.md``.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

NAV_ENTRY = re.compile(r"^\s*-\s+(?:[^:\n]+:\s+)?(?P<page>[\w./-]+\.md)\s*$")


def nav_pages(config: str) -> list[str]:
    """The ``.md`` pages listed under the top-level ``nav:`` key, in order."""
    lines = config.splitlines()
    start = lines.index("nav:") + 1
    pages: list[str] = []
    for line in lines[start:]:
        if line and not line[0].isspace() and not line.startswith("-"):
            break  # the next top-level key
        match = NAV_ENTRY.match(line)
        if match:
            pages.append(match["page"])
    return pages


def test_nav_reader_reads_titled_and_bare_entries() -> None:
    config = (
        "site_name: x\nnav:\n  - Home: index.md\n  - Guide:\n      - a.md\n      - B: sub/b.md\ntheme: x\n- stray.md\n"
    )
    assert nav_pages(config) == ["index.md", "a.md", "sub/b.md"]


def test_every_docs_page_is_in_the_nav_once() -> None:
    config = (REPO / "mkdocs.yml").read_text()
    assert re.search(r"^docs_dir:\s*docs\s*$", config, flags=re.M)
    listed = nav_pages(config)
    assert len(listed) == len(set(listed)), f"pages listed twice in mkdocs.yml's nav: {listed}"
    docs = REPO / "docs"
    on_disk = {p.relative_to(docs).as_posix() for p in docs.rglob("*.md")}
    missing = sorted(on_disk - set(listed))
    assert not missing, f"docs pages missing from mkdocs.yml's nav (add them under the right section): {missing}"
    dangling = sorted(set(listed) - on_disk)
    assert not dangling, f"mkdocs.yml's nav lists pages that do not exist in docs/: {dangling}"
