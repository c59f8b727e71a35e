"""Reusable validators: callables that raise :class:`dorm.ValidationError`.

Fields attach them through ``default_validators``; users pass their own via
``validators=[...]``.  A validator receives the already-coerced Python value.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any, Final

from dorm.exceptions import ValidationError

__all__ = [
    "EmailValidator",
    "MaxLengthValidator",
    "MaxValueValidator",
    "MinValueValidator",
    "RegexValidator",
    "URLValidator",
    "Validator",
    "validate_email",
    "validate_ipv46_address",
    "validate_slug",
    "validate_url",
]

Validator = Callable[[Any], None]


class RegexValidator:
    """Value (as ``str``) must match ``regex`` (or must not, with ``inverse_match``)."""

    __slots__ = ("code", "inverse_match", "message", "regex")

    def __init__(
        self,
        regex: str,
        message: str = "Enter a valid value.",
        code: str = "invalid",
        *,
        flags: int = 0,
        inverse_match: bool = False,
    ) -> None:
        self.regex = re.compile(regex, flags)
        self.message = message
        self.code = code
        self.inverse_match = inverse_match

    def __call__(self, value: Any) -> None:
        matched = self.regex.search(str(value)) is not None
        if matched == self.inverse_match:
            raise ValidationError(f"{self.message} Got {value!r}.", code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RegexValidator) and (self.regex.pattern, self.message, self.code) == (
            other.regex.pattern,
            other.message,
            other.code,
        )

    __hash__ = object.__hash__


class EmailValidator:
    """A pragmatic e-mail check: ``local@domain.tld``, no spaces, a dotted domain."""

    __slots__ = ()
    _user: Final = re.compile(
        r"^[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+)*$|^\"([\x01-\x08\x0b\x0c\x0e-\x1f!#-\[\]-\x7f]|\\[\x01-\x09\x0b\x0c\x0e-\x7f])*\"$"
    )
    _domain: Final = re.compile(r"^((?!-)[A-Za-z0-9-]{1,63}(?<!-)\.)+[A-Za-z]{2,63}$|^localhost$")

    def __call__(self, value: Any) -> None:
        text = str(value)
        if "@" not in text or len(text) > 320:
            raise ValidationError(f"Enter a valid email address (got {value!r}).", code="invalid")
        user, _, domain = text.rpartition("@")
        if not user or not self._user.match(user) or not self._valid_domain(domain):
            raise ValidationError(f"Enter a valid email address (got {value!r}).", code="invalid")

    def _valid_domain(self, domain: str) -> bool:
        if self._domain.match(domain):
            return True
        if domain.startswith("[") and domain.endswith("]"):
            try:
                ipaddress.ip_address(domain[1:-1].removeprefix("IPv6:"))
            except ValueError:
                return False
            return True
        try:
            return bool(self._domain.match(domain.encode("idna").decode("ascii")))
        except UnicodeError:
            return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EmailValidator)

    __hash__ = object.__hash__


class URLValidator:
    """``scheme://host[:port][/path]`` with a scheme in ``schemes``."""

    __slots__ = ("schemes",)
    _url: Final = re.compile(
        r"^(?P<scheme>[a-z][a-z0-9.+-]*)://"
        r"(?:[^\s:@/]+(?::[^\s@/]*)?@)?"
        r"(?P<host>\[[0-9a-f:.]+\]|(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)*(?:[^\W_](?:[\w-]{0,61}[^\W_])?)\.?)"
        r"(?::\d{1,5})?"
        r"(?:[/?#][^\s]*)?$",
        re.IGNORECASE,
    )

    def __init__(self, schemes: tuple[str, ...] = ("http", "https", "ftp", "ftps")) -> None:
        self.schemes = schemes

    def __call__(self, value: Any) -> None:
        text = str(value)
        match = self._url.match(text)
        if match is None or match.group("scheme").lower() not in self.schemes or len(text) > 2048:
            raise ValidationError(
                f"Enter a valid URL (got {value!r}); expected e.g. 'https://example.com/path'.", code="invalid"
            )
        host = match.group("host")
        if "." not in host and host.lower() != "localhost" and not host.startswith("["):
            raise ValidationError(
                f"Enter a valid URL (got {value!r}): the host {host!r} has no domain.", code="invalid"
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, URLValidator) and self.schemes == other.schemes

    __hash__ = object.__hash__


class MaxLengthValidator:
    __slots__ = ("limit",)

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __call__(self, value: Any) -> None:
        if len(value) > self.limit:
            raise ValidationError(
                f"Ensure this value has at most {self.limit} characters (it has {len(value)}).", code="max_length"
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MaxLengthValidator) and other.limit == self.limit

    __hash__ = object.__hash__


class MinValueValidator:
    __slots__ = ("limit",)

    def __init__(self, limit: Any) -> None:
        self.limit = limit

    def __call__(self, value: Any) -> None:
        if value < self.limit:
            raise ValidationError(
                f"Ensure this value is greater than or equal to {self.limit} (got {value!r}).", code="min_value"
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MinValueValidator) and other.limit == self.limit

    __hash__ = object.__hash__


class MaxValueValidator:
    __slots__ = ("limit",)

    def __init__(self, limit: Any) -> None:
        self.limit = limit

    def __call__(self, value: Any) -> None:
        if value > self.limit:
            raise ValidationError(
                f"Ensure this value is less than or equal to {self.limit} (got {value!r}).", code="max_value"
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MaxValueValidator) and other.limit == self.limit

    __hash__ = object.__hash__


validate_email: Final = EmailValidator()
validate_url: Final = URLValidator()
validate_slug: Final = RegexValidator(
    r"^[-a-zA-Z0-9_]+\Z",
    "Enter a valid slug: letters, numbers, underscores or hyphens only.",
    "invalid",
)


def validate_ipv46_address(value: Any) -> None:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        raise ValidationError(f"Enter a valid IPv4 or IPv6 address (got {value!r}).", code="invalid") from None
