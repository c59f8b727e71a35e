"""Fields: coercion and validation on construction and assignment, options,
deconstruct, and a round trip of every type through each backend."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable
from typing import Any

import pytest

import dorm

UTC = dt.UTC


class Everything(dorm.Model):
    small = dorm.SmallIntegerField(default=0)
    integer = dorm.IntegerField(default=0)
    big = dorm.BigIntegerField(default=0)
    positive = dorm.PositiveIntegerField(default=0)
    ratio = dorm.FloatField(default=0.0)
    price = dorm.DecimalField(max_digits=6, decimal_places=2, default=decimal.Decimal("0"))
    flag = dorm.BooleanField(default=False)
    name = dorm.CharField(max_length=10, default="")
    body = dorm.TextField(default="")
    slug = dorm.SlugField(default="s")
    email = dorm.EmailField(default="a@example.com")
    url = dorm.URLField(default="https://example.com")
    uid = dorm.UUIDField(default=uuid.uuid4)
    day = dorm.DateField(null=True)
    moment = dorm.DateTimeField(null=True)
    clock = dorm.TimeField(null=True)
    span = dorm.DurationField(null=True)
    blob = dorm.BinaryField(null=True)
    data = dorm.JSONField(default=dict)
    scalar = dorm.JSONField(null=True)
    ip = dorm.GenericIPAddressField(null=True)

    class Meta:
        app_label = "fieldtests"


# --------------------------------------------------------------------------
# validation on construction and on assignment
# --------------------------------------------------------------------------

INVALID: list[tuple[str, Any, str]] = [
    ("small", 40000, "between -32768 and 32767"),
    ("integer", "12x", "must be an integer"),
    ("integer", 1.5, "must be an integer"),
    ("big", 2**63, "between"),
    ("positive", -1, "between 0 and"),
    ("ratio", "fast", "must be a number"),
    ("price", "abc", "must be a decimal number"),
    ("price", "1.234", "at most 2 decimal places"),
    ("price", "12345.6", "at most 4 digits before the decimal point"),
    ("flag", "maybe", "must be True or False"),
    ("flag", 2, "must be True or False"),
    ("name", "x" * 11, "at most 10 characters"),
    ("name", b"bytes", "must be text"),
    ("slug", "not a slug!", "valid slug"),
    ("email", "x", "valid email address"),
    ("email", "a@b", "valid email address"),
    ("email", "a b@example.com", "valid email address"),
    ("url", "example.com", "valid URL"),
    ("url", "javascript:alert(1)", "valid URL"),
    ("uid", "not-a-uuid", "must be a UUID"),
    ("day", "2024-13-01", "must be a date"),
    ("moment", "yesterday", "must be a datetime"),
    ("clock", "25:00", "must be a time"),
    ("span", "forever", "must be a duration"),
    ("blob", "text", "must be bytes"),
    ("data", {1, 2}, "JSON-serialisable"),
    ("data", object(), "JSON-serialisable"),
    ("ip", "999.1.1.1", "IP address"),
]


@pytest.mark.parametrize(
    ("name", "value", "message"), INVALID, ids=[f"{n}-{i}" for i, (n, _v, _m) in enumerate(INVALID)]
)
def test_invalid_value_on_construction(name: str, value: Any, message: str) -> None:
    with pytest.raises(dorm.ValidationError, match=message) as info:
        Everything(**{name: value})
    assert name in info.value.message_dict


@pytest.mark.parametrize(
    ("name", "value", "message"), INVALID, ids=[f"{n}-{i}" for i, (n, _v, _m) in enumerate(INVALID)]
)
def test_invalid_value_on_assignment(name: str, value: Any, message: str) -> None:
    obj = Everything()
    before = obj.__dict__[name]
    with pytest.raises(dorm.ValidationError, match=message):
        setattr(obj, name, value)
    assert obj.__dict__[name] == before  # a refused value is not stored


def test_construction_reports_every_bad_field() -> None:
    with pytest.raises(dorm.ValidationError) as info:
        Everything(email="x", integer="y", url="z")
    assert set(info.value.message_dict) == {"email", "integer", "url"}


COERCED: list[tuple[str, Any, Any]] = [
    ("integer", "42", 42),
    ("integer", 7.0, 7),
    ("integer", True, 1),
    ("ratio", "2.5", 2.5),
    ("ratio", 3, 3.0),
    ("price", "12.5", decimal.Decimal("12.50")),
    ("price", 1.1, decimal.Decimal("1.10")),
    ("flag", "yes", True),
    ("flag", 0, False),
    ("name", 12, "12"),
    ("uid", "12345678123456781234567812345678", uuid.UUID("12345678-1234-5678-1234-567812345678")),
    ("day", "2024-05-01", dt.date(2024, 5, 1)),
    ("day", dt.datetime(2024, 5, 1, 23, 0, tzinfo=UTC), dt.date(2024, 5, 1)),
    ("moment", "2024-05-01T12:30:00Z", dt.datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
    ("moment", dt.datetime(2024, 5, 1, 12, 30), dt.datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
    ("clock", "13:45", dt.time(13, 45)),
    ("span", "1:00:00", dt.timedelta(hours=1)),
    ("span", 90, dt.timedelta(seconds=90)),
    ("blob", bytearray(b"ab"), b"ab"),
    ("ip", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
    ("email", "", ""),
]


@pytest.mark.parametrize(
    ("name", "value", "expected"), COERCED, ids=[f"{n}-{i}" for i, (n, _v, _e) in enumerate(COERCED)]
)
def test_values_are_coerced(name: str, value: Any, expected: Any) -> None:
    obj = Everything(**{name: value})
    assert getattr(obj, name) == expected
    assert type(getattr(obj, name)) is type(expected)
    obj2 = Everything()
    setattr(obj2, name, value)
    assert getattr(obj2, name) == expected


def test_none_is_accepted_on_assignment_and_refused_by_full_clean() -> None:
    obj = Everything(name=None)
    assert obj.name is None
    with pytest.raises(dorm.ValidationError, match="cannot be null"):
        obj.clean_fields()


def test_custom_validators_run_on_assignment() -> None:
    def even(value: int) -> None:
        if value % 2:
            raise dorm.ValidationError(f"{value} is odd")

    class Even(dorm.Model):
        n = dorm.IntegerField(validators=[even])

        class Meta:
            app_label = "fieldtests"

    assert Even(n=2).n == 2
    with pytest.raises(dorm.ValidationError, match="3 is odd"):
        Even(n=3)


def test_url_field_schemes() -> None:
    class Link(dorm.Model):
        target = dorm.URLField(schemes=("ftp",))

        class Meta:
            app_label = "fieldtests"

    assert Link(target="ftp://files.example.com/x").target.startswith("ftp://")
    with pytest.raises(dorm.ValidationError, match="valid URL"):
        Link(target="https://example.com")


def test_generic_ip_protocol() -> None:
    class Host(dorm.Model):
        v4 = dorm.GenericIPAddressField(protocol="ipv4")

        class Meta:
            app_label = "fieldtests"

    assert Host(v4="10.0.0.1").v4 == "10.0.0.1"
    with pytest.raises(dorm.ValidationError, match="IPv4"):
        Host(v4="::1")


def test_use_tz_false_keeps_naive_datetimes(monkeypatch: pytest.MonkeyPatch) -> None:
    from dorm.fields import temporal

    monkeypatch.setattr(temporal, "use_tz", lambda: False)
    obj = Everything(moment="2024-05-01T12:30:00")
    assert obj.moment == dt.datetime(2024, 5, 1, 12, 30)
    assert obj.moment.tzinfo is None


# --------------------------------------------------------------------------
# options and declarations
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: dorm.CharField(), "needs max_length"),
        (lambda: dorm.CharField(max_length=0), "positive integer"),
        (lambda: dorm.DecimalField(max_digits=5), "needs max_digits and decimal_places"),
        (lambda: dorm.DecimalField(max_digits=2, decimal_places=3), "cannot exceed max_digits"),
        (lambda: dorm.AutoField(), "primary_key=True"),
        (lambda: dorm.DateTimeField(auto_now=True, auto_now_add=True), "mutually exclusive"),
        (lambda: dorm.GenericIPAddressField(protocol="ipv5"), "protocol must be"),
        (lambda: dorm.ForeignKey("Author"), "needs on_delete"),
        (lambda: dorm.ForeignKey("Author", on_delete="cascade"), "on_delete must be one of"),  # type: ignore[call-overload]
        (lambda: dorm.ForeignKey("Author", on_delete=dorm.SET_NULL), "needs null=True"),
        (lambda: dorm.ManyToManyField("Tag", null=True), "cannot be null"),
        (lambda: dorm.ManyToManyField("Tag", through="X", db_table="y"), "not both"),
    ],
)
def test_bad_declarations_explain_the_fix(make: Callable[[], Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        make()


def test_choices_checked_by_full_clean() -> None:
    class Shirt(dorm.Model):
        size = dorm.CharField(max_length=1, choices=[("S", "Small"), ("L", "Large")])

        class Meta:
            app_label = "fieldtests"

    Shirt(size="S").clean_fields()
    with pytest.raises(dorm.ValidationError, match="'M' is not a valid choice. Allowed: 'S', 'L'"):
        Shirt(size="M").clean_fields()


def test_callable_default_called_per_instance() -> None:
    first, second = Everything(), Everything()
    assert first.uid != second.uid
    assert first.data == {} and first.data is not second.data


def test_db_default_marker() -> None:
    from dorm.models import DB_DEFAULT

    class WithDbDefault(dorm.Model):
        level = dorm.IntegerField(db_default=3)

        class Meta:
            app_label = "fieldtests"

    assert WithDbDefault().__dict__["level"] is DB_DEFAULT
    assert WithDbDefault(level=4).level == 4


def test_pre_save_auto_now() -> None:
    class Stamp(dorm.Model):
        created = dorm.DateTimeField(auto_now_add=True)
        updated = dorm.DateTimeField(auto_now=True)

        class Meta:
            app_label = "fieldtests"

    obj = Stamp()
    created = Stamp._meta.get_field("created")
    updated = Stamp._meta.get_field("updated")
    assert created.editable is False and created.blank is True
    value = created.pre_save(obj, add=True)
    assert value.tzinfo is not None and obj.created == value
    assert created.pre_save(obj, add=False) == value  # not refreshed on update
    assert updated.pre_save(obj, add=False) >= value


def test_deconstruct_keeps_only_given_options() -> None:
    field = Everything._meta.get_field("name")
    assert field.deconstruct() == ("name", "dorm.CharField", [], {"max_length": 10, "default": ""})
    price = Everything._meta.get_field("price")
    name, path, args, kwargs = price.deconstruct()
    assert (path, kwargs["max_digits"], kwargs["decimal_places"]) == ("dorm.DecimalField", 6, 2)
    pk = Everything._meta.pk
    assert pk.deconstruct() == ("id", "dorm.BigAutoField", [], {"primary_key": True})
    rebuilt = dorm.CharField(*field.deconstruct()[2], **field.deconstruct()[3])
    assert rebuilt.max_length == 10


def test_class_access_returns_the_field() -> None:
    assert isinstance(Everything.name, dorm.CharField)
    assert Everything.name.model is Everything
    assert Everything.name.attname == "name" and Everything.name.column == "name"


def test_db_column() -> None:
    class Col(dorm.Model):
        title = dorm.CharField(max_length=5, db_column="the_title")

        class Meta:
            app_label = "fieldtests"

    assert Col._meta.columns == ("id", "the_title")
    assert Col._meta.attnames == ("id", "title")


def test_lookup_registry_walks_the_mro() -> None:
    class Shout:
        lookup_name = "shout"

    class Upper:
        lookup_name = "upper_t"
        is_transform = True

    dorm.CharField.register_lookup(Shout)
    dorm.Field.register_lookup(Upper)
    try:
        email = Everything._meta.get_field("email")
        assert email.get_lookup("shout") is Shout  # EmailField inherits CharField's
        assert email.get_transform("upper_t") is Upper  # and Field's
        assert email.get_lookup("upper_t") is None
        assert Everything._meta.get_field("integer").get_lookup("shout") is None
    finally:
        dorm.CharField._unregister_lookup(Shout)
        dorm.Field._unregister_lookup(Upper)
    assert Everything._meta.get_field("email").get_lookup("shout") is None


# --------------------------------------------------------------------------
# every type through the database
# --------------------------------------------------------------------------


def test_every_field_type_round_trips(alias: str, create_tables: Callable[..., None]) -> None:
    create_tables(Everything)
    values: dict[str, Any] = {
        "small": -5,
        "integer": 2**31 - 1,
        "big": 2**62,
        "positive": 7,
        "ratio": 0.25,
        "price": decimal.Decimal("1234.50"),
        "flag": True,
        "name": "zoë",
        "body": "long text " * 50,
        "slug": "a-slug_1",
        "email": "ann@example.org",
        "url": "https://example.org/a?b=c",
        "uid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "day": dt.date(2024, 2, 29),
        "moment": dt.datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC),
        "clock": dt.time(23, 59, 58),
        "span": dt.timedelta(days=2, seconds=5, microseconds=7),
        "blob": b"\x00\x01binary",
        "data": {"a": [1, 2, {"b": None}], "c": "d"},
        "scalar": "a JSON string, not an object",
        "ip": "2001:db8::1",
    }
    obj = Everything(**values)
    obj.save()
    loaded = Everything.objects.get(pk=obj.pk)
    for name, expected in values.items():
        got = getattr(loaded, name)
        assert got == expected, name
        assert type(got) is type(expected), name
    assert loaded.moment.tzinfo is not None
    assert Everything.objects.filter(uid=values["uid"]).count() == 1
    assert Everything.objects.filter(price=decimal.Decimal("1234.5")).count() == 1
    assert Everything.objects.filter(day="2024-02-29").count() == 1


def test_relation_deconstruct_bound_and_unbound() -> None:
    class Shelf(dorm.Model):
        class Meta:
            app_label = "fieldtests"

    class Tome(dorm.Model):
        shelf = dorm.ForeignKey("Shelf", on_delete=dorm.PROTECT, related_name="tomes", null=True)
        parent = dorm.ForeignKey("self", on_delete=dorm.SET(None), null=True)
        related = dorm.ManyToManyField("self", db_table="tome_links")

        class Meta:
            app_label = "fieldtests"

    assert Tome._meta.get_field("shelf").deconstruct() == (
        "shelf",
        "dorm.ForeignKey",
        [],
        {"related_name": "tomes", "null": True, "to": "fieldtests.Shelf", "on_delete": dorm.PROTECT},
    )
    _, _, _, kwargs = Tome._meta.get_field("parent").deconstruct()
    assert kwargs["to"] == "fieldtests.Tome" and kwargs["on_delete"] == dorm.SET(None)
    assert Tome._meta.get_field("related").deconstruct()[3] == {"db_table": "tome_links", "to": "fieldtests.Tome"}
    unbound = dorm.ForeignKey("library.Author", on_delete=dorm.CASCADE)
    unbound.name = "author"
    assert unbound.deconstruct()[3] == {"to": "library.Author", "on_delete": dorm.CASCADE}
    rebuilt = dorm.ForeignKey(**unbound.deconstruct()[3])
    assert rebuilt.on_delete is dorm.CASCADE


def test_bundled_validators() -> None:
    from dorm.fields.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator, RegexValidator

    class Scored(dorm.Model):
        score = dorm.IntegerField(validators=[MinValueValidator(0), MaxValueValidator(10)])
        code = dorm.CharField(max_length=10, validators=[RegexValidator(r"^[A-Z]+$", "Upper-case letters only.")])
        note = dorm.TextField(validators=[MaxLengthValidator(3)])

        class Meta:
            app_label = "fieldtests"

    Scored(score=10, code="AB", note="abc")
    with pytest.raises(dorm.ValidationError, match="greater than or equal to 0"):
        Scored(score=-1)
    with pytest.raises(dorm.ValidationError, match="less than or equal to 10"):
        Scored(score=11)
    with pytest.raises(dorm.ValidationError, match="Upper-case letters only"):
        Scored(code="ab")
    with pytest.raises(dorm.ValidationError, match="at most 3 characters"):
        Scored(note="abcd")


def test_get_display_for_choices() -> None:
    import enum

    class Size(str, enum.Enum):
        SMALL = "S"
        LARGE = "L"

    class Tee(dorm.Model):
        size = dorm.CharField(max_length=1, choices=[("S", "Small"), ("L", "Large")])
        fit = dorm.CharField(max_length=1, choices=Size, default="S")

        class Meta:
            app_label = "fieldtests"

    tee = Tee(size="L")
    assert tee.get_size_display() == "Large"  # type: ignore[attr-defined]
    assert tee.get_fit_display() == "SMALL"  # type: ignore[attr-defined]  # an Enum's member name is its label
    tee.__dict__["size"] = "X"  # e.g. a value loaded from the database
    assert tee.get_size_display() == "X"  # type: ignore[attr-defined]
