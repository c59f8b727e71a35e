"""Circuit breakers: ``cb = dorm.circuit_breaker("payments-db")``; ``with cb:`` / ``async with cb:`` / ``@cb``.

States: ``CLOSED`` (calls pass; consecutive expected failures are counted)
→ ``OPEN`` after ``failure_threshold`` of them (every call raises
``CircuitOpenError: Circuit '<name>' is OPEN`` without running) →
``HALF_OPEN`` once ``cooldown`` seconds have passed (one trial call at a time
is admitted; others still bounce) → ``CLOSED`` after ``success_threshold``
successful trials, or back to ``OPEN`` on a failed one.

Only exceptions that are instances of ``expected`` count as failures.
``asyncio.CancelledError`` never does, nor does a ``CircuitOpenError`` from
another breaker, nor a ``BudgetExceeded`` for rows or query counts (the
database answered; only a budget *timeout* counts).  An outcome counts only
in the state it was admitted in: a slow call that started while ``CLOSED``
and ends during ``HALF_OPEN`` is not taken for the trial.  A streamed
statement (``qs.iterator()``) through a per-alias breaker counts as a
success when its first rows arrive, not when the loop ends.

Breakers are process-wide by name: :func:`circuit_breaker` creates a breaker
the first time a name is used and returns that same object afterwards;
parameters given on later calls that differ from the first ones are
ignored with a WARNING on ``dorm.resilience.circuit`` (the first
configuration wins, so every module sharing a name shares one breaker).
State changes are logged on ``dorm.resilience.circuit``.

Per-alias breakers come from settings: an alias with
``"CIRCUIT_BREAKER": {"failure_threshold": 3, "cooldown": 10}`` gets the
breaker named ``"db:<alias>"`` and every statement on that alias runs
through it (see :func:`configure_alias_breakers`).
"""

from __future__ import annotations

import enum
import functools
import logging
import sys
import threading
import time
from collections.abc import Callable, Generator, Mapping
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar, final

from dorm.exceptions import BudgetExceeded, CircuitOpenError, ImproperlyConfigured, OperationalError, QueryCanceledError
from dorm.plugins import hookimpl
from dorm_resilience._slots import HookSlot

if TYPE_CHECKING:
    from dorm.backends.base.statement import Statement
    from dorm.conf import Settings

__all__ = ["CircuitBreaker", "CircuitState", "circuit_breaker", "configure_alias_breakers", "get_breakers"]

logger: Final = logging.getLogger("dorm.resilience.circuit")

_F = TypeVar("_F", bound=Callable[..., Any])
Clock = Callable[[], float]

ALIAS_PREFIX: Final = "db:"


class CircuitState(str, enum.Enum):
    """A breaker's state; compares equal to its lower-case name (``cb.state == "open"``)."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"

    def __str__(self) -> str:
        return self.name


@final
class _Ticket:
    """One admitted call: the breaker, the epoch it was admitted in, and whether it is the trial."""

    __slots__ = ("breaker", "epoch", "trial")

    def __init__(self, breaker: CircuitBreaker, epoch: int, trial: bool) -> None:
        self.breaker = breaker
        self.epoch = epoch
        self.trial = trial


_tickets: ContextVar[tuple[_Ticket, ...]] = ContextVar("dorm_resilience_circuit_tickets", default=())


def _never_a_failure(exc: BaseException) -> bool:
    if isinstance(exc, CircuitOpenError):
        return True
    aio = sys.modules.get("asyncio")  # not imported: no CancelledError can exist (keeps this module light)
    if aio is not None and isinstance(exc, aio.CancelledError):
        return True
    # A budget's row/query ceiling is the caller's limit, not the database failing; a timeout is.
    return isinstance(exc, BudgetExceeded) and not isinstance(exc.__cause__, QueryCanceledError)


# What a downstream failing looks like by default: the database's OperationalError (lost
# connection, refused checkout, statement timeout) and OSError, which covers the network errors
# of any other protected call (ConnectionError, TimeoutError, socket errors, requests' errors).
DEFAULT_EXPECTED: Final[tuple[type[BaseException], ...]] = (OperationalError, OSError)


class CircuitBreaker:
    """A circuit breaker; thread- and task-safe.  Usually built by :func:`circuit_breaker`.

    :param name: shown in messages and logs.
    :param failure_threshold: consecutive expected failures that open the circuit.
    :param cooldown: seconds the circuit stays OPEN before admitting a trial call.
    :param success_threshold: successful trial calls needed to close it again.
    :param expected: exception classes that count as failures.
    :param clock: a monotonic clock in seconds (injectable for tests).
    """

    def __init__(
        self,
        name: str,
        failure_threshold: int = 5,
        cooldown: float = 30.0,
        success_threshold: int = 1,
        expected: tuple[type[BaseException], ...] = DEFAULT_EXPECTED,
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        if not isinstance(failure_threshold, int) or failure_threshold < 1:
            raise ValueError(
                f"circuit_breaker({name!r}): failure_threshold must be an int >= 1, not {failure_threshold!r}."
            )
        if not isinstance(success_threshold, int) or success_threshold < 1:
            raise ValueError(
                f"circuit_breaker({name!r}): success_threshold must be an int >= 1, not {success_threshold!r}."
            )
        if not isinstance(cooldown, (int, float)) or cooldown < 0:
            raise ValueError(f"circuit_breaker({name!r}): cooldown must be a number of seconds >= 0, not {cooldown!r}.")
        given: Any = expected
        expected = (given,) if isinstance(given, type) else tuple(given)  # a single class is forgiven
        if not expected or not all(isinstance(e, type) and issubclass(e, BaseException) for e in expected):
            raise ValueError(
                f"circuit_breaker({name!r}): expected must be a tuple of exception classes, not {expected!r}."
            )
        self.name = name
        self.failure_threshold = failure_threshold
        self.cooldown = float(cooldown)
        self.success_threshold = success_threshold
        self.expected = expected
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CircuitState.CLOSED
        self._epoch = 0
        self._failures = 0
        self._successes = 0
        self._opened_at = 0.0
        self._trial_running = False

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.name!r} {self.state.name}>"

    # -- state ----------------------------------------------------------------

    @property
    def state(self) -> CircuitState:
        """The current state (an OPEN breaker whose cooldown has passed reports HALF_OPEN)."""
        with self._lock:
            self._promote()
            return self._state

    @property
    def failures(self) -> int:
        """Consecutive expected failures counted while CLOSED."""
        return self._failures

    def time_until_half_open(self) -> float:
        """Seconds until an OPEN breaker admits a trial call (0.0 unless OPEN)."""
        with self._lock:
            if self._state is not CircuitState.OPEN:
                return 0.0
            return max(0.0, self._opened_at + self.cooldown - self._clock())

    def reset(self) -> None:
        """Close the circuit and forget counted failures (e.g. after fixing the downstream)."""
        with self._lock:
            self._transition(CircuitState.CLOSED, "reset() called")

    def _transition(self, state: CircuitState, why: str) -> None:
        previous = self._state
        self._state = state
        self._epoch += 1
        self._failures = 0
        self._successes = 0
        self._trial_running = False
        if state is CircuitState.OPEN:
            self._opened_at = self._clock()
        if previous is not state:
            level = logging.WARNING if state is CircuitState.OPEN else logging.INFO
            logger.log(
                level,
                "Circuit %r: %s -> %s (%s)",
                self.name,
                previous.name,
                state.name,
                why,
                extra={"circuit": self.name, "from_state": previous.name, "to_state": state.name},
            )

    def _promote(self) -> None:
        if self._state is CircuitState.OPEN and self._clock() >= self._opened_at + self.cooldown:
            self._transition(
                CircuitState.HALF_OPEN, f"cooldown of {self.cooldown:g} s passed; admitting one trial call"
            )

    # -- admission and outcomes -------------------------------------------------

    def _open_error(self, trial_busy: bool) -> CircuitOpenError:
        if trial_busy:
            detail = "half-open: one trial call is already running, the others bounce until it succeeds or fails"
        else:
            left = max(0.0, self._opened_at + self.cooldown - self._clock())
            detail = f"{left:.1f} s until HALF_OPEN admits a trial call"
        return CircuitOpenError(
            f"Circuit {self.name!r} is OPEN ({detail}). It tripped after {self.failure_threshold} consecutive "
            f"failures. Wait out the cooldown ({self.cooldown:g} s) or call "
            f"circuit_breaker({self.name!r}).reset() once the downstream is fixed; if this shows up often "
            "there is a real downstream problem: log and alert on it."
        )

    def _admit(self) -> _Ticket:
        with self._lock:
            self._promote()
            state = self._state
            if state is CircuitState.CLOSED:
                return _Ticket(self, self._epoch, False)
            if state is CircuitState.OPEN:
                raise self._open_error(False)
            if self._trial_running:
                raise self._open_error(True)
            self._trial_running = True
            return _Ticket(self, self._epoch, True)

    def _settle(self, ticket: _Ticket, exc: BaseException | None) -> None:
        failed = exc is not None and not _never_a_failure(exc) and isinstance(exc, self.expected)
        neutral = exc is not None and not failed
        with self._lock:
            if ticket.epoch != self._epoch:
                return  # admitted in an earlier state; its outcome says nothing about this one
            if self._state is CircuitState.CLOSED:
                if failed:
                    self._failures += 1
                    if self._failures >= self.failure_threshold:
                        self._transition(
                            CircuitState.OPEN,
                            f"{self._failures} consecutive failures, last: {type(exc).__name__}: {exc}",
                        )
                elif not neutral:
                    self._failures = 0
                return
            if self._state is CircuitState.HALF_OPEN and ticket.trial:
                self._trial_running = False
                if failed:
                    self._transition(CircuitState.OPEN, f"trial call failed: {type(exc).__name__}: {exc}")
                elif not neutral:
                    self._successes += 1
                    if self._successes >= self.success_threshold:
                        self._transition(CircuitState.CLOSED, f"{self._successes} successful trial call(s)")

    # -- context manager and decorator -------------------------------------------

    def __enter__(self) -> CircuitBreaker:
        ticket = self._admit()
        _tickets.set((*_tickets.get(), ticket))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        stack = _tickets.get()
        # The innermost ticket of this breaker (with-blocks exit in LIFO order).
        for i in range(len(stack) - 1, -1, -1):
            if stack[i].breaker is self:
                ticket = stack[i]
                _tickets.set(stack[:i] + stack[i + 1 :])
                self._settle(ticket, exc)
                return

    async def __aenter__(self) -> CircuitBreaker:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def __call__(self, func: _F) -> _F:
        """Run every call of ``func`` (sync or ``async def``) through this breaker."""
        import inspect

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                ticket = self._admit()
                try:
                    result = await func(*args, **kwargs)
                except BaseException as exc:
                    self._settle(ticket, exc)
                    raise
                self._settle(ticket, None)
                return result

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ticket = self._admit()
            try:
                result = func(*args, **kwargs)
            except BaseException as exc:
                self._settle(ticket, exc)
                raise
            self._settle(ticket, None)
            return result

        return wrapper  # type: ignore[return-value]

    def _guard_statement(self, statement: Statement | None = None) -> Generator[None, None, None]:
        """The body of a per-alias statement wrapper.

        A streamed statement (``iterator()``) succeeds as soon as its first
        rows arrive: the database answered, and a long iteration must not keep
        a HALF_OPEN breaker's other calls (the loop's own queries among them)
        bouncing until it ends.  A failure later in the stream still counts.
        """
        ticket = self._admit()
        settled = False
        if statement is not None and statement.streamed:

            def first_rows(_: Statement) -> None:
                nonlocal settled
                if not settled:
                    settled = True
                    self._settle(ticket, None)

            statement.add_chunk_callback(first_rows)
        try:
            yield
        except BaseException as exc:
            self._settle(ticket, exc)
            raise
        if not settled:
            self._settle(ticket, None)


# -- the process-wide registry ---------------------------------------------------

_registry: dict[str, CircuitBreaker] = {}
_registry_lock = threading.Lock()
_UNSET: Final[Any] = object()


def circuit_breaker(
    name: str,
    failure_threshold: int = _UNSET,
    cooldown: float = _UNSET,
    success_threshold: int = _UNSET,
    expected: tuple[type[BaseException], ...] = _UNSET,
    *,
    clock: Clock = _UNSET,
) -> CircuitBreaker:
    """The process-wide breaker called ``name``, created on first use.

    Defaults: ``failure_threshold=5``, ``cooldown=30.0`` seconds,
    ``success_threshold=1``, ``expected=(dorm.OperationalError, OSError)``.  The first
    call for a name fixes its configuration; a later call with different
    parameters returns the same breaker unchanged and logs a WARNING.
    """
    given: dict[str, Any] = {
        key: value
        for key, value in (
            ("failure_threshold", failure_threshold),
            ("cooldown", cooldown),
            ("success_threshold", success_threshold),
            ("expected", expected),
            ("clock", clock),
        )
        if value is not _UNSET
    }
    with _registry_lock:
        breaker = _registry.get(name)
        if breaker is None:
            breaker = CircuitBreaker(name, **given)
            _registry[name] = breaker
            return breaker
    differing = {
        key: value
        for key, value in given.items()
        if key != "clock" and getattr(breaker, key) != (tuple(value) if key == "expected" else value)
    }
    if differing:
        logger.warning(
            "circuit_breaker(%r) was already created with other parameters; keeping the first ones "
            "(ignored: %s). Build it in one place and import it, or use a different name.",
            name,
            ", ".join(f"{k}={v!r}" for k, v in differing.items()),
        )
    return breaker


def get_breakers() -> dict[str, CircuitBreaker]:
    """A snapshot of every named breaker (per-alias ones are ``"db:<alias>"``)."""
    with _registry_lock:
        return dict(_registry)


def forget_breaker(name: str) -> None:
    """Drop a named breaker from the registry (tests; the next use builds a fresh one)."""
    with _registry_lock:
        _registry.pop(name, None)


# -- per-alias breakers ------------------------------------------------------------------


@final
class _AliasBreakerHook:
    """The ``dorm_statement`` wrapper for aliases with ``CIRCUIT_BREAKER`` settings."""

    __slots__ = ("by_alias",)

    def __init__(self) -> None:
        self.by_alias: dict[str, CircuitBreaker] = {}

    def __dir__(self) -> list[str]:
        # pluggy inspects every name dir() lists on register; one name keeps that cheap.
        return ["dorm_statement"]

    @hookimpl
    def dorm_statement(self, statement: Statement) -> Generator[None, None, None]:
        breaker = self.by_alias.get(statement.alias)
        if breaker is None:
            yield
            return
        yield from breaker._guard_statement(statement)


_alias_hook: Final = _AliasBreakerHook()
_alias_slot: Final = HookSlot(_alias_hook, "dorm_resilience.circuit")
_alias_kernel: list[Any] = []  # the kernel the per-alias wrapper is registered with, if any
_ALIAS_KEYS: Final = frozenset({"failure_threshold", "cooldown", "success_threshold", "expected"})


def _alias_params(alias: str, raw: Any) -> dict[str, Any]:
    if raw is True:
        return {}
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured(
            f"DATABASES[{alias!r}]['CIRCUIT_BREAKER'] must be a dict such as "
            f"{{'failure_threshold': 3, 'cooldown': 10}}, not {type(raw).__name__}."
        )
    unknown = set(raw) - _ALIAS_KEYS
    if unknown:
        raise ImproperlyConfigured(
            f"DATABASES[{alias!r}]['CIRCUIT_BREAKER'] has unknown keys {sorted(unknown)}; use {sorted(_ALIAS_KEYS)}."
        )
    params = dict(raw)
    if "expected" in params:
        params["expected"] = tuple(params["expected"])
    return params


def configure_alias_breakers(settings: Settings) -> None:
    """Build ``"db:<alias>"`` breakers for aliases with ``CIRCUIT_BREAKER`` (the ``dorm_configure`` hook).

    A breaker whose settings did not change keeps its state across
    ``configure()`` calls; changed settings replace it with a fresh, CLOSED one.
    The statement wrapper is registered only while some alias has a breaker.
    """
    databases: Mapping[str, Mapping[str, Any]] = settings.get("DATABASES") or {}
    wanted: dict[str, CircuitBreaker] = {}
    for alias, config in databases.items():
        raw = config.get("CIRCUIT_BREAKER")
        if raw is None or raw is False:
            continue
        params = _alias_params(alias, raw)
        name = ALIAS_PREFIX + alias
        try:
            fresh = CircuitBreaker(name, **params)
        except ValueError as exc:
            raise ImproperlyConfigured(f"DATABASES[{alias!r}]['CIRCUIT_BREAKER']: {exc}") from exc
        with _registry_lock:
            existing = _registry.get(name)
            if existing is not None and all(
                getattr(existing, key) == getattr(fresh, key)
                for key in ("failure_threshold", "cooldown", "success_threshold", "expected")
            ):
                fresh = existing
            _registry[name] = fresh
        wanted[alias] = fresh
    _alias_hook.by_alias = wanted
    if wanted and not _alias_kernel:
        _alias_kernel.append(_alias_slot.acquire())
    elif not wanted and _alias_kernel:
        _alias_slot.release(_alias_kernel.pop())
