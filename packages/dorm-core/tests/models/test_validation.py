"""full_clean(): fields, clean(), uniqueness against the database; deferred fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import dorm


class Member(dorm.Model):
    handle = dorm.SlugField(unique=True)
    email = dorm.EmailField(blank=True)
    level = dorm.IntegerField(choices=[(1, "bronze"), (2, "silver")], default=1)
    team = dorm.CharField(max_length=10)
    number = dorm.IntegerField()
    bio = dorm.TextField(blank=True, null=True)

    class Meta:
        app_label = "valtests"
        unique_together = [("team", "number")]

    def clean(self) -> None:
        if self.team == "solo" and self.number != 1:
            raise dorm.ValidationError({"number": "A solo team has only number 1."})


@pytest.fixture
def table(create_tables: Callable[..., None]) -> None:
    create_tables(Member)


def test_full_clean_collects_every_problem() -> None:
    member = Member(handle="ann", team="", number=3, level=1)
    member.level = 5
    member.handle = ""
    with pytest.raises(dorm.ValidationError) as info:
        member.full_clean(validate_unique=False)
    errors = info.value.message_dict
    assert set(errors) == {"handle", "team", "level"}
    assert errors["team"] == ["This field cannot be blank."]
    assert "not a valid choice" in errors["level"][0]


def test_blank_fields_may_be_empty() -> None:
    Member(handle="ann", team="a", number=1, email="").full_clean(validate_unique=False)


def test_model_clean_is_called() -> None:
    with pytest.raises(dorm.ValidationError) as info:
        Member(handle="ann", team="solo", number=2).full_clean(validate_unique=False)
    assert info.value.message_dict == {"number": ["A solo team has only number 1."]}


def test_exclude_skips_fields() -> None:
    member = Member(handle="ann", team="", number=3)
    member.full_clean(exclude=["team"], validate_unique=False)


def test_validate_unique_queries_the_database(alias: str, table: None) -> None:
    Member.objects.create(handle="ann", team="red", number=1)
    twin = Member(handle="ann", team="red", number=1)
    with pytest.raises(dorm.ValidationError) as info:
        twin.full_clean()
    errors = info.value.message_dict
    assert errors["handle"] == ["Member with this handle already exists."]
    assert errors["__all__"] == ["Member with this team and number already exists."]
    saved = Member.objects.get(handle="ann")
    saved.full_clean()  # an existing row does not clash with itself
    Member(handle="bob", team="red", number=2).full_clean()


async def test_afull_clean(alias: str, table: None) -> None:
    await Member.objects.acreate(handle="ann", team="red", number=1)
    with pytest.raises(dorm.ValidationError, match="already exists"):
        await Member(handle="ann", team="blue", number=1).afull_clean()
    await Member(handle="cy", team="blue", number=1).afull_clean()


def test_deferred_field_loads_on_access(alias: str, table: None) -> None:
    Member.objects.create(handle="ann", team="red", number=1, bio="long story")
    member = Member.objects.only("handle").get(handle="ann")
    assert "bio" in member.get_deferred_fields()
    assert member.bio == "long story"  # one query
    assert "bio" not in member.get_deferred_fields()


async def test_deferred_field_inside_a_loop(alias: str, table: None) -> None:
    await Member.objects.acreate(handle="ann", team="red", number=1, bio="story")
    member = await Member.objects.defer("bio").aget(handle="ann")
    with pytest.raises(dorm.UnloadedRelationError, match=r"await obj.arefresh_from_db\(fields=\['bio'\]\)"):
        member.bio  # noqa: B018
    await member.arefresh_from_db(fields=["bio"])
    assert member.bio == "story"


def test_serializable_value(alias: str, table: None) -> None:
    member = Member(handle="ann", team="red", number=4)
    assert member.serializable_value("number") == 4
    assert member.serializable_value("pk") is None


def test_refresh_from_db_reloads(alias: str, table: None) -> None:
    member = Member.objects.create(handle="ann", team="red", number=1)
    Member.objects.filter(pk=member.pk).update(team="blue")
    member.refresh_from_db()
    assert member.team == "blue"


def test_pk_zero_is_inserted_not_updated(alias: str, table: None) -> None:
    member = Member(pk=0, handle="zero", team="z", number=0)
    assert member._state.adding
    member.save()
    assert Member.objects.get(pk=0).handle == "zero"
    assert member._state.adding is False


def _names(objs: Any) -> list[str]:
    return sorted(o.handle for o in objs)
