"""State, autodetector and writer without a database."""

from __future__ import annotations

import datetime
import decimal
import types
from typing import Any

import pytest

import dorm
from dorm import migrations
from dorm.migrations.autodetector import MigrationAutodetector, suggest_name
from dorm.migrations.state import ProjectState, field_signature
from dorm.migrations.writer import MigrationWriter, serialize


class Publisher(dorm.Model):
    name = dorm.CharField(max_length=80)

    class Meta:
        app_label = "h7engine"


class Book(dorm.Model):
    title = dorm.CharField(max_length=120, db_index=True)
    price = dorm.DecimalField(max_digits=6, decimal_places=2, default=decimal.Decimal("9.99"))
    publisher = dorm.ForeignKey(Publisher, on_delete=dorm.PROTECT, related_name="books")
    tags = dorm.ManyToManyField("h7engine.Tagx")

    class Meta:
        app_label = "h7engine"
        unique_together = [("title", "publisher")]
        indexes = [dorm.Index(fields=["title", "price"], name="h7_book_title_price")]
        constraints = [dorm.CheckConstraint(check=dorm.Q(price__gte=0), name="h7_book_price_gte_0")]


class Tagx(dorm.Model):
    label = dorm.SlugField(max_length=30, unique=True)

    class Meta:
        app_label = "h7engine"


MODELS = [Publisher, Book, Tagx]


def _state() -> ProjectState:
    return ProjectState.from_models(MODELS)


def test_state_from_models_keeps_fields_and_options() -> None:
    state = _state()
    book = state.get("h7engine", "Book")
    assert list(book.fields) == ["id", "title", "price", "publisher", "tags"]
    assert book.options["unique_together"] == [("title", "publisher")]
    assert book.db_table == "h7engine_book"
    rendered = state.render("h7engine", "Book")
    fk = next(f for f in rendered._meta.fields if f.name == "publisher")
    assert fk.column == "publisher_id" and fk.remote_field.model._meta.db_table == "h7engine_publisher"
    assert [f.name for f in rendered._meta.local_many_to_many] == ["tags"]
    assert ("h7engine", "book_tags") not in state.models  # the through table is implied by the M2M field


def test_autodetector_creates_models_targets_first() -> None:
    ops = MigrationAutodetector(ProjectState(), _state()).changes()["h7engine"]
    names = [op.name for op in ops if isinstance(op, migrations.CreateModel)]
    assert names.index("Publisher") < names.index("Book") and names.index("Tagx") < names.index("Book")
    assert suggest_name(ops, initial=True) == "initial"


def test_autodetector_field_changes() -> None:
    old = _state()
    new = old.clone()
    book = new.get("h7engine", "Book")
    book.fields["title"] = dorm.CharField(max_length=200, db_index=True)
    book.fields["title"].name = "title"
    book.fields["subtitle"] = dorm.CharField(max_length=50, null=True)
    book.fields["subtitle"].name = "subtitle"
    del book.fields["price"]
    book.options["indexes"] = []
    book.options["constraints"] = []
    ops = MigrationAutodetector(old, new).changes()["h7engine"]
    kinds = [type(op).__name__ for op in ops]
    assert kinds == ["RemoveIndex", "RemoveConstraint", "RemoveField", "AddField", "AlterField"]
    assert suggest_name(ops, initial=False) == "auto"
    assert suggest_name(ops[2:3], initial=False) == "remove_book_price"


def test_autodetector_detects_renames() -> None:
    old = _state()
    new = old.clone()
    pub = new.get("h7engine", "Publisher")
    pub.fields = {("label" if k == "name" else k): v for k, v in pub.fields.items()}
    pub.fields["label"].name = "label"
    ops = MigrationAutodetector(old, new).changes()["h7engine"]
    assert [type(op).__name__ for op in ops] == ["RenameField"]
    tag = new.get("h7engine", "Tagx")
    new.remove_model("h7engine", "Tagx")
    tag.name = "Label"
    tag.options["db_table"] = "h7engine_label"
    new.add_model(tag)
    ops = MigrationAutodetector(old, new).changes()["h7engine"]
    assert isinstance(ops[0], migrations.RenameModel) and (ops[0].old_name, ops[0].new_name) == ("Tagx", "Label")


def test_no_changes_for_identical_states() -> None:
    assert MigrationAutodetector(_state(), _state()).changes() == {}


def test_written_file_round_trips() -> None:
    ops = MigrationAutodetector(ProjectState(), _state()).changes()["h7engine"]
    text = MigrationWriter("h7engine", "0001_initial", ops, [], initial=True).as_string()
    assert "from dorm import migrations" in text and "class Migration(migrations.Migration):" in text
    assert "dorm.DecimalField(max_digits=6, decimal_places=2, default=decimal.Decimal('9.99'))" in text
    assert "on_delete=dorm.PROTECT" in text and "to='h7engine.Publisher'" in text
    module = types.ModuleType("h7_written")
    exec(compile(text, "0001_initial.py", "exec"), module.__dict__)
    state = ProjectState()
    for op in module.Migration.operations:
        op.state_forwards("h7engine", state)
    expected = _state()
    for key, model_state in expected.models.items():
        loaded = state.models[key]
        assert {n: field_signature(f, "h7engine") for n, f in loaded.fields.items()} == {
            n: field_signature(f, "h7engine") for n, f in model_state.fields.items()
        }
        assert loaded.options["unique_together"] == model_state.options["unique_together"]
        assert [i.name for i in loaded.options["indexes"]] == [i.name for i in model_state.options["indexes"]]


def module_level_default() -> int:
    return 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime.date(2024, 1, 2), "datetime.date(2024, 1, 2)"),
        (decimal.Decimal("1.50"), "decimal.Decimal('1.50')"),
        ((1,), "(1,)"),
        (module_level_default, "test_engine.module_level_default"),
        (dorm.CASCADE, "dorm.CASCADE"),
        (dorm.Q(a__gt=1) | dorm.Q(b=2), "dorm.Q("),
    ],
)
def test_serializer(value: Any, expected: str) -> None:
    text, _imports = serialize(value)
    assert expected in text


def test_serializer_refuses_lambdas_with_the_fix() -> None:
    with pytest.raises(ValueError, match="module-level function"):
        serialize(lambda: 1)


def test_runpython_noop_and_irreversibility() -> None:
    assert migrations.RunPython(migrations.RunPython.noop).is_reversible() is False
    assert migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop).is_reversible() is True
    assert migrations.RunSQL("SELECT 1").is_reversible() is False
    assert migrations.RunSQL("SELECT 1", migrations.RunSQL.noop).is_reversible() is True
    with pytest.raises(TypeError, match="callable"):
        migrations.RunPython("not code")  # type: ignore[arg-type]


def test_every_operation_is_exported() -> None:
    for name in (
        "CreateModel DeleteModel RenameModel AddField RemoveField AlterField RenameField AddIndex RemoveIndex "
        "AddConstraint RemoveConstraint AlterUniqueTogether RunSQL RunPython SeparateDatabaseAndState "
        "AddFieldOnline BackfillBatch SetNotNullOnline AddIndexConcurrently Migration"
    ).split():
        assert hasattr(dorm.migrations, name), name
