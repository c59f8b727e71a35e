"""Run one operation written once as a generator of statements, sync or async.

An operation (``bulk_create``, ``delete`` with its cascade, ``get_or_create``...)
is a generator that yields :class:`~dorm.backends.base.statement.Statement`
objects and receives them back executed.  :func:`drive` runs it through
``executor.run``; :func:`adrive` through ``await executor.arun``.  Errors of a
statement are thrown into the generator, so it can react (``get_or_create``
catching ``IntegrityError``).  Building statements and hydrating rows is
therefore shared by the sync and async paths; only the I/O differs.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeVar

from dorm.db import executor

__all__ = ["AtomicCall", "Op", "SignalCall", "adrive", "drive"]

R = TypeVar("R")


class SignalCall:
    """Yielded by an operation to send a signal: sync receivers on the sync path,
    every receiver (async ones awaited) on the async path."""

    __slots__ = ("signal", "sender", "kwargs")

    def __init__(self, signal: Any, sender: Any, kwargs: dict[str, Any]) -> None:
        self.signal = signal
        self.sender = sender
        self.kwargs = kwargs


class AtomicCall:
    """Yielded by an operation to run a sub-operation in its own (nested) atomic block:
    a savepoint inside a transaction, so a failure there leaves the outer one usable."""

    __slots__ = ("op", "alias")

    def __init__(self, op: Any, alias: str) -> None:
        self.op = op
        self.alias = alias


Op = Generator[Any, Any, R]


def drive(op: Op[R], method: str, atomic_alias: str | None = None) -> R:
    """Run ``op`` synchronously (``method`` names the refused call inside an event loop)."""
    executor.ensure_sync_allowed(method)
    if atomic_alias is not None:
        from dorm.transaction import atomic

        with atomic(using=atomic_alias):
            return _drive(op, method)
    return _drive(op, method)


def _drive(op: Op[R], method: str) -> R:
    run = executor.run
    try:
        stmt = next(op)
        while True:
            try:
                kind = type(stmt)
                if kind is SignalCall:
                    done = stmt.signal.send(stmt.sender, **stmt.kwargs)
                elif kind is AtomicCall:
                    from dorm.transaction import atomic

                    with atomic(using=stmt.alias):
                        done = _drive(stmt.op, method)
                else:
                    done = run(stmt, method)
            except Exception as exc:
                stmt = op.throw(exc)
                continue
            stmt = op.send(done)
    except StopIteration as stop:
        result: R = stop.value
        return result


async def adrive(op: Op[R], atomic_alias: str | None = None) -> R:
    """Run ``op`` on the async I/O edge."""
    if atomic_alias is not None:
        from dorm.transaction import aatomic

        async with aatomic(using=atomic_alias):
            return await _adrive(op)
    return await _adrive(op)


async def _adrive(op: Op[R]) -> R:
    arun = executor.arun
    try:
        stmt = next(op)
        while True:
            try:
                kind = type(stmt)
                if kind is SignalCall:
                    done = await stmt.signal.asend(stmt.sender, **stmt.kwargs)
                elif kind is AtomicCall:
                    from dorm.transaction import aatomic

                    async with aatomic(using=stmt.alias):
                        done = await _adrive(stmt.op)
                else:
                    done = await arun(stmt)
            except Exception as exc:
                stmt = op.throw(exc)
                continue
            stmt = op.send(done)
    except StopIteration as stop:
        result: R = stop.value
        return result
