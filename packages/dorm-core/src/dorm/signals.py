"""Signals: ``pre_save``, ``post_save``, ``pre_delete``, ``post_delete``, ``m2m_changed``, ``class_prepared``.

Receivers are plain functions or coroutine functions taking ``sender`` and
``**kwargs``::

    @dorm.signals.receiver(dorm.signals.post_save, sender=Author)
    def on_author_saved(sender, instance, created, **kwargs): ...

Sync and async paths: ``save()`` calls :meth:`Signal.send`, which runs the
**sync** receivers only; ``await asave()`` calls :meth:`Signal.asend`, which
runs sync receivers and awaits async ones, in connection order.  An async
receiver therefore only fires on the async paths (``asave``, ``adelete``,
``aadd``...): a sync ``save()`` cannot await it without blocking a loop.
Connect a sync receiver too when both paths must be observed.

:meth:`Signal.has_listeners` is cheap, so persistence skips building the
keyword arguments when nobody listens.
"""

from __future__ import annotations

import inspect
import threading
import weakref
from collections.abc import Callable
from typing import Any

__all__ = ["Signal", "class_prepared", "m2m_changed", "post_delete", "post_save", "pre_delete", "pre_save", "receiver"]

Receiver = Callable[..., Any]
_NONE_KEY = 0
_ANY: Any = object()


def _key(obj: Any) -> int:
    return _NONE_KEY if obj is None else id(obj)


class _Entry:
    __slots__ = ("dispatch_key", "is_async", "ref", "sender_key")

    def __init__(self, dispatch_key: Any, ref: Callable[[], Receiver | None], sender_key: int, is_async: bool) -> None:
        self.dispatch_key = dispatch_key
        self.ref = ref
        self.sender_key = sender_key
        self.is_async = is_async


class Signal:
    """A hook point receivers connect to.  ``send``/``asend`` call them with ``sender`` and keyword arguments."""

    def __init__(self, name: str = "signal") -> None:
        self.name = name
        self._entries: list[_Entry] = []
        self._lock = threading.Lock()
        # sender key -> entries for it (global ones included); cleared on (dis)connect
        self._cache: dict[int, tuple[_Entry, ...]] = {}
        self._dead = False

    def __repr__(self) -> str:
        return f"<Signal {self.name}>"

    def connect(self, receiver: Receiver, sender: Any = None, weak: bool = True, dispatch_uid: Any = None) -> None:
        """Connect ``receiver`` (only for ``sender`` when given).

        ``weak=True`` holds it by weak reference (a receiver defined in a
        function and not kept alive disappears with it); ``dispatch_uid``
        prevents connecting the same receiver twice under different objects.
        """
        if not callable(receiver):
            raise TypeError(f"Signal receivers must be callable; got {receiver!r}.")
        dispatch_key = (dispatch_uid, _key(sender)) if dispatch_uid is not None else (_key(receiver), _key(sender))
        ref: Callable[[], Receiver | None]
        if weak:
            if inspect.ismethod(receiver):
                ref = weakref.WeakMethod(receiver, self._on_dead)
            else:
                ref = weakref.ref(receiver, self._on_dead)
        else:
            ref = _Strong(receiver)
        call = getattr(receiver, "__call__", None)  # noqa: B004 (an object with an async __call__)
        is_async = inspect.iscoroutinefunction(receiver) or inspect.iscoroutinefunction(call)
        with self._lock:
            if any(e.dispatch_key == dispatch_key for e in self._entries):
                return
            self._entries.append(_Entry(dispatch_key, ref, _key(sender), is_async))
            self._cache.clear()

    def disconnect(self, receiver: Receiver | None = None, sender: Any = None, dispatch_uid: Any = None) -> bool:
        """Disconnect a receiver; True when one was connected."""
        dispatch_key = (dispatch_uid, _key(sender)) if dispatch_uid is not None else (_key(receiver), _key(sender))
        with self._lock:
            before = len(self._entries)
            self._entries = [e for e in self._entries if e.dispatch_key != dispatch_key]
            self._cache.clear()
            return len(self._entries) != before

    def _on_dead(self, _ref: Any) -> None:
        self._dead = True

    def _prune(self) -> None:
        with self._lock:
            self._entries = [e for e in self._entries if e.ref() is not None]
            self._cache.clear()
            self._dead = False

    def _live(self, sender: Any) -> tuple[_Entry, ...]:
        if self._dead:
            self._prune()
        key = _key(sender)
        found = self._cache.get(key)
        if found is None:
            with self._lock:
                found = tuple(e for e in self._entries if e.sender_key in (_NONE_KEY, key))
                self._cache[key] = found
        return found

    def has_listeners(self, sender: Any = _ANY) -> bool:
        """True when at least one receiver would be called for ``sender``
        (without ``sender``: when any receiver is connected at all)."""
        if not self._entries:
            return False
        if sender is _ANY:
            return True
        return bool(self._live(sender))

    def send(self, sender: Any, **kwargs: Any) -> list[tuple[Receiver, Any]]:
        """Call the sync receivers; returns ``[(receiver, response), ...]``.

        Async receivers are skipped here: they run only on async paths (:meth:`asend`).
        An exception in a receiver propagates.
        """
        if not self._entries:
            return []
        responses: list[tuple[Receiver, Any]] = []
        for entry in self._live(sender):
            if entry.is_async:
                continue
            fn = entry.ref()
            if fn is not None:
                responses.append((fn, fn(signal=self, sender=sender, **kwargs)))
        return responses

    async def asend(self, sender: Any, **kwargs: Any) -> list[tuple[Receiver, Any]]:
        """Call every receiver, awaiting async ones, in connection order."""
        if not self._entries:
            return []
        responses: list[tuple[Receiver, Any]] = []
        for entry in self._live(sender):
            fn = entry.ref()
            if fn is None:
                continue
            result = fn(signal=self, sender=sender, **kwargs)
            if entry.is_async or inspect.isawaitable(result):
                result = await result
            responses.append((fn, result))
        return responses


class _Strong:
    __slots__ = ("fn",)

    def __init__(self, fn: Receiver) -> None:
        self.fn = fn

    def __call__(self) -> Receiver:
        return self.fn


def receiver(signal: Signal | list[Signal] | tuple[Signal, ...], **kwargs: Any) -> Callable[[Receiver], Receiver]:
    """Decorator: ``@receiver(post_save, sender=Author)`` connects the function (to several signals with a list)."""

    def decorate(fn: Receiver) -> Receiver:
        for sig in signal if isinstance(signal, (list, tuple)) else (signal,):
            sig.connect(fn, **kwargs)
        return fn

    return decorate


#: Before an instance is saved: ``sender`` (model), ``instance``, ``raw``, ``using``, ``update_fields``.
pre_save = Signal("pre_save")
#: After an instance is saved: plus ``created``.
post_save = Signal("post_save")
#: Before an instance is deleted (each one the cascade reaches): ``sender``, ``instance``, ``using``, ``origin``.
pre_delete = Signal("pre_delete")
#: After an instance is deleted.
post_delete = Signal("post_delete")
#: A many-to-many relation changed: ``sender`` (the through model), ``instance``, ``action``
#: (``pre_add``/``post_add``/``pre_remove``/``post_remove``/``pre_clear``/``post_clear``),
#: ``reverse``, ``model``, ``pk_set`` (``None`` for clears), ``using``.
m2m_changed = Signal("m2m_changed")
#: A concrete model class is ready (``sender`` is the class).
class_prepared = Signal("class_prepared")
