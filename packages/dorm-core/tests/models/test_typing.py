"""Static typing of models: ``Field[T]`` descriptors, relations and the default manager.

Runs mypy (strict) on a small module and compares the revealed types.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

SAMPLE = """
import datetime
import decimal
import uuid

import dorm


class Author(dorm.Model):
    name = dorm.CharField(max_length=50)
    age = dorm.IntegerField(null=True)
    born = dorm.DateTimeField(null=True)
    day = dorm.DateField(null=True)
    price = dorm.DecimalField(max_digits=5, decimal_places=2)
    key = dorm.UUIDField()
    active = dorm.BooleanField(default=True)


class Book(dorm.Model):
    title = dorm.CharField(max_length=50)
    author = dorm.ForeignKey(Author, on_delete=dorm.CASCADE)
    editor = dorm.ForeignKey(Author, on_delete=dorm.SET_NULL, null=True)
    subtitle = dorm.CharField(max_length=50, null=True)
    email = dorm.EmailField(null=True)
    lazy = dorm.ForeignKey("Author", on_delete=dorm.CASCADE)
    profile = dorm.OneToOneField(Author, on_delete=dorm.CASCADE)


def check(a: Author, b: Book) -> None:
    reveal_type(a.name)
    reveal_type(a.age)  # null=True
    reveal_type(a.born)
    reveal_type(a.day)
    reveal_type(a.price)
    reveal_type(a.key)
    reveal_type(a.active)
    reveal_type(Author.name)
    reveal_type(b.author)
    reveal_type(b.author.name)
    reveal_type(Author.objects.first())
    reveal_type(b.editor)
    reveal_type(b.subtitle)
    reveal_type(b.email)
    reveal_type(b.lazy)
    reveal_type(b.profile)
    b.subtitle = None
    a.name = "ok"
    a.born = datetime.datetime.now()
    a.name = 3  # E: wrong type
"""

EXPECTED = [
    "builtins.str",
    "builtins.int | None",
    "datetime.datetime | None",
    "datetime.date | None",
    "decimal.Decimal",
    "uuid.UUID",
    "builtins.bool",
    "dorm.fields.text.CharField[builtins.str]",
    "sample.Author",
    "builtins.str",
    "sample.Author | None",
    "sample.Author | None",
    "builtins.str | None",
    "builtins.str | None",
    "Any",
    "sample.Author",
]


def test_field_descriptors_are_typed(tmp_path: Path) -> None:
    module = tmp_path / "sample.py"
    module.write_text(SAMPLE)
    stdout, stderr, _status = mypy_api.run(
        [
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--python-version",
            "3.11",
            str(module),
        ]
    )
    assert not stderr
    revealed = re.findall(r'Revealed type is "([^"]+)"', stdout)
    assert [r.replace("builtins.", "") for r in revealed] == [e.replace("builtins.", "") for e in EXPECTED], stdout
    errors = [line for line in stdout.splitlines() if ": error:" in line]
    assert (
        len(errors) == 1
        and 'incompatible types in assignment (expression has type "int", variable has type "str")' in errors[0].lower()
    ), stdout
