"""Dates, times, datetimes (``auto_now``/``auto_now_add``, ``USE_TZ``) and durations."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from dorm.exceptions import ValidationError
from dorm.fields.base import Field

if TYPE_CHECKING:
    from dorm.backends.base.base import BaseDatabaseWrapper
    from dorm.models.base import Model

__all__ = ["DateField", "DateTimeField", "DurationField", "TimeField", "use_tz"]

_T = TypeVar("_T")

_UTC = dt.UTC


def use_tz() -> bool:
    """The ``USE_TZ`` setting (True when settings are not configured yet)."""
    from dorm.conf import settings

    return bool(settings.get("USE_TZ", True)) if settings.configured else True


def now() -> dt.datetime:
    """Current time: aware UTC with ``USE_TZ``, else naive local time."""
    return dt.datetime.now(_UTC) if use_tz() else dt.datetime.now()


class _AutoNowMixin:
    auto_now: bool
    auto_now_add: bool

    attname: str

    def _current(self) -> Any:
        """The value ``auto_now`` / ``auto_now_add`` store (the field's kind of "now")."""
        raise NotImplementedError

    def pre_save(self, instance: Model, add: bool) -> Any:
        if self.auto_now or (self.auto_now_add and add):
            value = self._current()
            instance.__dict__[self.attname] = value
            return value
        return instance.__dict__.get(self.attname)

    def _init_auto(self, kwargs: dict[str, Any], auto_now: bool, auto_now_add: bool) -> None:
        self.auto_now = auto_now
        self.auto_now_add = auto_now_add
        if auto_now or auto_now_add:
            kwargs.setdefault("editable", False)
            kwargs.setdefault("blank", True)
        if auto_now and auto_now_add:
            raise TypeError(
                "auto_now and auto_now_add are mutually exclusive: auto_now already sets the value on every save, the first one included."
            )


class DateField(_AutoNowMixin, Field[_T]):
    """A calendar date; accepts ``date`` objects and ISO strings (``"2024-05-01"``)."""

    empty_strings_allowed = False

    @overload
    def __init__(
        self: DateField[dt.date], verbose_name: str | None = None, *, null: Literal[False] = False, **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: DateField[dt.date | None], verbose_name: str | None = None, *, null: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: DateField[dt.date | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(
        self, verbose_name: str | None = None, *, auto_now: bool = False, auto_now_add: bool = False, **kwargs: Any
    ) -> None:
        self._init_auto(kwargs, auto_now, auto_now_add)
        super().__init__(verbose_name, **kwargs)

    def coerce(self, value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            moment: dt.datetime = value
            if moment.tzinfo is not None and use_tz():
                moment = moment.astimezone(_UTC)
            return moment.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ValidationError(
            f"'{getattr(self, 'name', 'value')}' must be a date (YYYY-MM-DD); got {value!r}.", code="invalid"
        )

    def _current(self) -> dt.date:
        return now().date()

    def get_db_prep_value(self, value: Any, wrapper: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if type(value) is dt.date and not wrapper.features.supports_timezones:
            # ISO text, as the sqlite3 default adapter wrote it (that adapter is deprecated since Python 3.12)
            return value.isoformat()
        return value

    def get_db_converter(self, wrapper: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
        return _date_from_db

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        return name, path, args, kwargs


def _date_from_db(value: Any) -> Any:
    if value is None or type(value) is dt.date:
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


class DateTimeField(DateField[_T]):
    """A timestamp.  With ``USE_TZ`` (the default) values are aware and stored in UTC;
    a naive value assigned then is taken as UTC."""

    @overload
    def __init__(
        self: DateTimeField[dt.datetime],
        verbose_name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: DateTimeField[dt.datetime | None], verbose_name: str | None = None, *, null: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: DateTimeField[dt.datetime | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(self, verbose_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(verbose_name, **kwargs)  # type: ignore[misc]  # parent's self-typed overloads

    def coerce(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            result = value
        elif isinstance(value, dt.date):
            result = dt.datetime(value.year, value.month, value.day)
        elif isinstance(value, str):
            try:
                result = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                raise ValidationError(
                    f"'{getattr(self, 'name', 'value')}' must be a datetime (ISO 8601, e.g. 2024-05-01T12:30:00+00:00); got {value!r}.",
                    code="invalid",
                ) from None
        else:
            raise ValidationError(
                f"'{getattr(self, 'name', 'value')}' must be a datetime; got {type(value).__name__} {value!r}.",
                code="invalid",
            )
        if use_tz():
            return result.replace(tzinfo=_UTC) if result.tzinfo is None else result
        return result

    def _current(self) -> dt.datetime:
        return now()

    def get_db_prep_value(self, value: Any, wrapper: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if isinstance(value, dt.datetime) and not wrapper.features.supports_timezones:
            # the column has no time zone: UTC, naive, as ISO text (the sqlite3 default
            # adapter's format; that adapter is deprecated since Python 3.12)
            if value.tzinfo is not None:
                value = value.astimezone(_UTC).replace(tzinfo=None)
            return value.isoformat(" ")
        return value

    def get_db_converter(self, wrapper: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
        aware = use_tz()
        native_tz = wrapper.features.supports_timezones

        def to_datetime(value: Any) -> Any:
            if value is None:
                return None
            if isinstance(value, str):
                value = dt.datetime.fromisoformat(value)
            elif type(value) is dt.date:
                value = dt.datetime(value.year, value.month, value.day)
            if aware:
                if value.tzinfo is None:
                    return value.replace(tzinfo=_UTC)
                return value if native_tz is False else value.astimezone(_UTC)
            if value.tzinfo is not None:
                return value.astimezone(_UTC).replace(tzinfo=None)
            return value

        return to_datetime


class TimeField(_AutoNowMixin, Field[_T]):
    """A time of day; accepts ``time`` objects and ISO strings (``"13:45:00"``)."""

    empty_strings_allowed = False

    @overload
    def __init__(
        self: TimeField[dt.time], verbose_name: str | None = None, *, null: Literal[False] = False, **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: TimeField[dt.time | None], verbose_name: str | None = None, *, null: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: TimeField[dt.time | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(
        self, verbose_name: str | None = None, *, auto_now: bool = False, auto_now_add: bool = False, **kwargs: Any
    ) -> None:
        self._init_auto(kwargs, auto_now, auto_now_add)
        super().__init__(verbose_name, **kwargs)

    def coerce(self, value: Any) -> dt.time:
        if isinstance(value, dt.datetime):
            return value.time()
        if isinstance(value, dt.time):
            return value
        if isinstance(value, str):
            try:
                return dt.time.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ValidationError(
            f"'{getattr(self, 'name', 'value')}' must be a time (HH:MM[:SS]); got {value!r}.", code="invalid"
        )

    def _current(self) -> dt.time:
        return dt.datetime.now().time()

    def get_db_prep_value(self, value: Any, wrapper: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if isinstance(value, dt.time) and not wrapper.features.supports_timezones:
            return value.isoformat()
        return value

    def get_db_converter(self, wrapper: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
        return _time_from_db


def _time_from_db(value: Any) -> Any:
    if isinstance(value, str):
        return dt.time.fromisoformat(value)
    if isinstance(value, dt.timedelta):  # some drivers return TIME as a timedelta
        return (dt.datetime.min + value).time()
    return value


_DURATION = re.compile(
    r"^(?:(?P<days>-?\d+) days?,? )?(?P<sign>-?)(?P<hours>\d+):(?P<minutes>\d\d):(?P<seconds>\d\d)(?:\.(?P<micro>\d{1,6}))?$"
)


class DurationField(Field[_T]):
    """A ``timedelta``; stored as microseconds (bigint) where there is no interval type."""

    @overload
    def __init__(
        self: DurationField[dt.timedelta],
        verbose_name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: DurationField[dt.timedelta | None], verbose_name: str | None = None, *, null: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: DurationField[dt.timedelta | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(self, verbose_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(verbose_name, **kwargs)

    empty_strings_allowed = False

    def coerce(self, value: Any) -> dt.timedelta:
        if isinstance(value, dt.timedelta):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return dt.timedelta(seconds=value)
        if isinstance(value, str):
            match = _DURATION.match(value.strip())
            if match:
                parts = match.groupdict()
                delta = dt.timedelta(
                    hours=int(parts["hours"]),
                    minutes=int(parts["minutes"]),
                    seconds=int(parts["seconds"]),
                    microseconds=int((parts["micro"] or "0").ljust(6, "0")),
                )
                if parts["sign"] == "-":
                    delta = -delta
                return delta + dt.timedelta(days=int(parts["days"] or 0))
        raise ValidationError(
            f"'{getattr(self, 'name', 'value')}' must be a duration (timedelta or 'HH:MM:SS'); got {value!r}.",
            code="invalid",
        )

    def get_db_prep_value(self, value: Any, wrapper: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None or wrapper.features.has_native_duration_field:
            return value
        return value // dt.timedelta(microseconds=1)

    def get_db_converter(self, wrapper: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
        if wrapper.features.has_native_duration_field:
            return None
        return _duration_from_db


def _duration_from_db(value: Any) -> Any:
    if value is None or isinstance(value, dt.timedelta):
        return value
    return dt.timedelta(microseconds=int(value))
