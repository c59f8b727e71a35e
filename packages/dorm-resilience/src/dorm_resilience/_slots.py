"""Refcounted registration of statement wrappers: only active features pay per statement.

Each feature (budgets, the N+1 detector, per-alias breakers) owns one
:class:`HookSlot` holding a small plugin object whose ``dorm_statement``
wrapper is registered with the kernel while at least one user holds the
slot, and unregistered when the last one lets go.
"""

from __future__ import annotations

import threading
from typing import Any, final

from dorm import plugins

__all__ = ["HookSlot"]


@final
class HookSlot:
    """Registers ``plugin`` with the active kernel while the refcount is above zero.

    The count is kept per kernel so tests that swap in a fresh kernel with
    ``Kernel.activate()`` register there too and unregister from the right one.
    """

    __slots__ = ("_counts", "_lock", "_name", "_plugin")

    def __init__(self, plugin: object, name: str) -> None:
        self._plugin = plugin
        self._name = name
        self._lock = threading.Lock()
        self._counts: dict[Any, int] = {}

    def acquire(self) -> Any:
        """Add one user; returns the kernel to hand back to :meth:`release`."""
        kernel = plugins.kernel
        with self._lock:
            count = self._counts.get(kernel, 0)
            if count == 0:
                kernel.register(self._plugin, name=self._name)
            self._counts[kernel] = count + 1
        return kernel

    def release(self, kernel: Any) -> None:
        """Drop one user; the last one unregisters the wrapper."""
        with self._lock:
            count = self._counts.get(kernel, 0) - 1
            if count > 0:
                self._counts[kernel] = count
                return
            self._counts.pop(kernel, None)
            kernel.unregister(self._plugin)

    @property
    def active(self) -> bool:
        """True while the wrapper is registered with the active kernel."""
        return self._counts.get(plugins.kernel, 0) > 0
