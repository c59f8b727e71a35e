"""Text fields: CharField (with ``max_length``), TextField, SlugField, EmailField, URLField."""

from __future__ import annotations

from typing import Any, Literal, TypeVar, overload

from dorm.exceptions import ValidationError
from dorm.fields.base import Field
from dorm.fields.validators import URLValidator, validate_email, validate_slug, validate_url

__all__ = ["CharField", "EmailField", "SlugField", "TextField", "URLField"]

_T = TypeVar("_T")


def _as_text(field: Field[Any], value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, dict, list, tuple, set)):
        raise ValidationError(
            f"'{getattr(field, 'name', 'value')}' must be text; got {type(value).__name__} {value!r}.", code="invalid"
        )
    return str(value)


class CharField(Field[_T]):
    """Text of at most ``max_length`` characters (checked on assignment)."""

    @overload
    def __init__(
        self: CharField[str], verbose_name: str | None = None, *, null: Literal[False] = False, **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: CharField[str | None], verbose_name: str | None = None, *, null: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: CharField[str | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(self, verbose_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(verbose_name, **kwargs)

    def _check_options(self) -> None:
        if self.max_length is None:
            raise TypeError(
                f"{type(self).__name__} needs max_length, e.g. {type(self).__name__}(max_length=200); use TextField for unbounded text."
            )
        if not isinstance(self.max_length, int) or isinstance(self.max_length, bool) or self.max_length <= 0:
            raise TypeError(f"{type(self).__name__}: max_length must be a positive integer, got {self.max_length!r}.")

    def coerce(self, value: Any) -> str:
        # a plain str (nearly every assignment) needs no conversion: skip _as_text's checks
        text = value if type(value) is str else _as_text(self, value)
        assert self.max_length is not None
        if len(text) > self.max_length:
            raise ValidationError(
                f"'{getattr(self, 'name', 'value')}' allows at most {self.max_length} characters; got {len(text)} ({text[:40]!r}...).",
                code="max_length",
            )
        return text


class TextField(Field[_T]):
    """Unbounded text."""

    @overload
    def __init__(
        self: TextField[str], verbose_name: str | None = None, *, null: Literal[False] = False, **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: TextField[str | None], verbose_name: str | None = None, *, null: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: TextField[str | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(self, verbose_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(verbose_name, **kwargs)

    def coerce(self, value: Any) -> str:
        return _as_text(self, value)


class SlugField(CharField[_T]):
    """Letters, digits, underscores and hyphens (``db_index`` on by default)."""

    default_validators = (validate_slug,)

    @overload
    def __init__(
        self: SlugField[str], verbose_name: str | None = None, *, null: Literal[False] = False, **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: SlugField[str | None], verbose_name: str | None = None, *, null: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: SlugField[str | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(
        self, verbose_name: str | None = None, *, max_length: int = 50, db_index: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(verbose_name, max_length=max_length, db_index=db_index, **kwargs)  # type: ignore[misc]  # parent's self-typed overloads


class EmailField(CharField[_T]):
    """An e-mail address, checked on assignment."""

    default_validators = (validate_email,)

    @overload
    def __init__(
        self: EmailField[str], verbose_name: str | None = None, *, null: Literal[False] = False, **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: EmailField[str | None], verbose_name: str | None = None, *, null: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: EmailField[str | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(self, verbose_name: str | None = None, *, max_length: int = 254, **kwargs: Any) -> None:
        super().__init__(verbose_name, max_length=max_length, **kwargs)  # type: ignore[misc]  # parent's self-typed overloads


class URLField(CharField[_T]):
    """A URL (``http``, ``https``, ``ftp``, ``ftps`` by default), checked on assignment."""

    default_validators = (validate_url,)

    @overload
    def __init__(
        self: URLField[str], verbose_name: str | None = None, *, null: Literal[False] = False, **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: URLField[str | None], verbose_name: str | None = None, *, null: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(self: URLField[str | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any) -> None: ...
    def __init__(
        self,
        verbose_name: str | None = None,
        *,
        max_length: int = 200,
        schemes: tuple[str, ...] | None = None,
        **kwargs: Any,
    ) -> None:
        if schemes is not None:
            kwargs["validators"] = [URLValidator(schemes), *kwargs.get("validators", ())]
            self.__dict__["default_validators"] = ()  # the given schemes replace the default check
        super().__init__(verbose_name, max_length=max_length, **kwargs)  # type: ignore[misc]  # parent's self-typed overloads
