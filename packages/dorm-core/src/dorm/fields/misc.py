"""UUID, JSON, binary and IP address fields."""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from dorm.exceptions import ValidationError
from dorm.fields.base import Field

if TYPE_CHECKING:
    from dorm.backends.base.base import BaseDatabaseWrapper

__all__ = ["BinaryField", "GenericIPAddressField", "JSONField", "UUIDField"]

_T = TypeVar("_T")


class UUIDField(Field[_T]):
    """A UUID; accepts ``uuid.UUID`` objects, hex strings and 128-bit integers.
    Stored natively where the backend has a uuid type, else as 32 hex characters."""

    empty_strings_allowed = False

    @overload
    def __init__(
        self: UUIDField[uuid.UUID], verbose_name: str | None = None, *, null: Literal[False] = False, **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: UUIDField[uuid.UUID | None], verbose_name: str | None = None, *, null: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: UUIDField[uuid.UUID | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(self, verbose_name: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)
        super().__init__(verbose_name, **kwargs)

    def coerce(self, value: Any) -> uuid.UUID:
        if isinstance(value, uuid.UUID):
            return value
        try:
            if isinstance(value, int) and not isinstance(value, bool):
                return uuid.UUID(int=value)
            if isinstance(value, str):
                return uuid.UUID(value.strip())
        except ValueError:
            pass
        raise ValidationError(f"'{getattr(self, 'name', 'value')}' must be a UUID; got {value!r}.", code="invalid")

    def get_db_prep_value(self, value: Any, wrapper: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None or wrapper.features.has_native_uuid_field:
            return value
        return value.hex

    def get_db_converter(self, wrapper: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
        return _uuid_from_db

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("max_length", None)
        return name, path, args, kwargs


def _uuid_from_db(value: Any) -> Any:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


class JSONField(Field[Any]):
    """Any JSON-serialisable value (dict, list, str, number, bool, ``None`` as JSON null when ``null=False``).

    Serialisability is checked on assignment.  ``encoder``/``decoder`` are
    ``json.JSONEncoder``/``json.JSONDecoder`` subclasses.
    """

    empty_strings_allowed = False

    def __init__(
        self,
        verbose_name: str | None = None,
        *,
        encoder: type[json.JSONEncoder] | None = None,
        decoder: type[json.JSONDecoder] | None = None,
        **kwargs: Any,
    ) -> None:
        self.encoder = encoder
        self.decoder = decoder
        super().__init__(verbose_name, **kwargs)

    def coerce(self, value: Any) -> Any:
        try:
            json.dumps(value, cls=self.encoder)
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                f"'{getattr(self, 'name', 'value')}' must be JSON-serialisable: {exc}.", code="invalid"
            ) from None
        return value

    def get_prep_value(self, value: Any) -> Any:
        return value

    def get_db_prep_value(self, value: Any, wrapper: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if value is None and self.null:
            return None
        # JSON text on every backend: native json columns take it as an untyped literal
        return json.dumps(value, cls=self.encoder)

    def get_db_converter(self, wrapper: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
        decoder = self.decoder
        if wrapper.features.has_native_json_field and decoder is None:
            return None  # the driver already decodes json/jsonb

        def from_json(value: Any) -> Any:
            if isinstance(value, (str, bytes, bytearray)):
                return json.loads(value, cls=decoder)
            return value

        return from_json

    def validate(self, value: Any, instance: Any) -> None:
        if self.choices is not None:
            super().validate(value, instance)
        if value is None and not self.null and not self.blank:
            raise ValidationError("This field cannot be null.", code="null")


class KeyTransformField(JSONField):
    """The output field of a JSON key transform (``data__owner``): its lookups compare JSON values.

    Internal: the key lookups (``exact``, ``gt``, ``isnull``...) register here, so they
    apply to ``data__owner=...`` and not to the JSON column itself.
    """

    def get_internal_type(self) -> str:
        return "JSONField"

    def get_db_prep_value(self, value: Any, wrapper: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        # None is JSON null here: ``data__owner=None`` matches {"owner": null}
        return json.dumps(value, cls=self.encoder)


class BinaryField(Field[_T]):
    """Raw bytes (``bytes``, ``bytearray`` or ``memoryview``); not editable by default."""

    empty_strings_allowed = True

    @overload
    def __init__(
        self: BinaryField[bytes], verbose_name: str | None = None, *, null: Literal[False] = False, **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: BinaryField[bytes | None], verbose_name: str | None = None, *, null: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: BinaryField[bytes | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(self, verbose_name: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        super().__init__(verbose_name, **kwargs)

    def coerce(self, value: Any) -> bytes:
        if isinstance(value, bytes):
            return value
        if isinstance(value, (bytearray, memoryview)):
            return bytes(value)
        raise ValidationError(
            f"'{getattr(self, 'name', 'value')}' must be bytes; got {type(value).__name__}.", code="invalid"
        )

    def get_default(self) -> Any:
        default = super().get_default()
        return b"" if default == "" else default

    def get_db_converter(self, wrapper: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
        return _bytes_from_db

    @property
    def empty_values(self) -> tuple[Any, ...]:
        return (None, b"")


def _bytes_from_db(value: Any) -> Any:
    if value is None or type(value) is bytes:
        return value
    return bytes(value)


class GenericIPAddressField(Field[_T]):
    """An IPv4 or IPv6 address (``protocol="both"|"ipv4"|"ipv6"``), normalised to its compressed text."""

    empty_strings_allowed = False

    @overload
    def __init__(
        self: GenericIPAddressField[str],
        verbose_name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Any,
    ) -> None: ...
    @overload
    def __init__(
        self: GenericIPAddressField[str | None], verbose_name: str | None = None, *, null: Literal[True], **kwargs: Any
    ) -> None: ...
    @overload
    def __init__(
        self: GenericIPAddressField[str | None], verbose_name: str | None = None, *, null: bool, **kwargs: Any
    ) -> None: ...
    def __init__(
        self, verbose_name: str | None = None, *, protocol: str = "both", unpack_ipv4: bool = False, **kwargs: Any
    ) -> None:
        protocol = protocol.lower()
        if protocol not in ("both", "ipv4", "ipv6"):
            raise TypeError(f"GenericIPAddressField: protocol must be 'both', 'ipv4' or 'ipv6', not {protocol!r}.")
        self.protocol = protocol
        self.unpack_ipv4 = unpack_ipv4
        kwargs.setdefault("max_length", 39)
        super().__init__(verbose_name, **kwargs)

    def coerce(self, value: Any) -> str:
        if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
            address: ipaddress.IPv4Address | ipaddress.IPv6Address = value
        else:
            try:
                address = ipaddress.ip_address(str(value).strip())
            except ValueError:
                raise ValidationError(
                    f"'{getattr(self, 'name', 'value')}' must be an IP address; got {value!r}.", code="invalid"
                ) from None
        if self.unpack_ipv4 and isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if self.protocol == "ipv4" and address.version != 4:
            raise ValidationError(
                f"'{getattr(self, 'name', 'value')}' must be an IPv4 address; got {value!r}.", code="invalid"
            )
        if self.protocol == "ipv6" and address.version != 6:
            raise ValidationError(
                f"'{getattr(self, 'name', 'value')}' must be an IPv6 address; got {value!r}.", code="invalid"
            )
        return str(address)

    def to_python(self, value: Any) -> Any:
        if value == "":
            return None if self.null else value
        return super().to_python(value)

    def get_db_converter(self, wrapper: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
        return _ip_from_db

    def deconstruct(self) -> tuple[str | None, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("max_length", None)
        return name, path, args, kwargs


def _ip_from_db(value: Any) -> Any:
    # native inet columns come back as ipaddress objects
    if value is None or type(value) is str:
        return value
    return str(value)
