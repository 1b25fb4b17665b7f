"""Login throttling: at most N failed logins per user name and per client address in a window.

Each login attempt first *reserves* a slot under every key (``user:<name>``, ``address:<ip>``)
in one atomic step; a right password then gives its slots back, a wrong one leaves them as
failures. So only failures count, a right password after a few typos still works, and once a
key has N failures in the window every attempt — with the right password too — is refused until
the oldest failure leaves the window (a sliding window: the wait is exact, not "until the
minute turns"). Reserving before the password check, rather than counting after it, means a
burst of parallel guesses cannot slip past the limit while the first ones are being checked.

Two stores share the interface: one in process memory (one app process), and Redis (a sorted
set per key, updated by a Lua script, so every process and machine shares the count). When Redis
cannot be reached the memory store takes over, so a Redis outage neither locks staff out nor
lifts the limit entirely.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from layers.errors import LayerError

log = logging.getLogger(__name__)


class TooManyAttempts(LayerError):
    """Too many failed logins for this user or from this address (HTTP 429)."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
        self.extensions = {"retry_after": retry_after}


class AttemptStore(Protocol):
    """Where attempts are counted."""

    def reserve(self, key: str, limit: int, window: float, member: str) -> float:
        """Add ``member`` under ``key`` unless ``limit`` attempts lie within ``window`` seconds;
        returns 0 when added, else the seconds until the oldest one leaves the window."""

    def release(self, key: str, member: str) -> None:
        """Remove ``member`` (an attempt that turned out not to be a failure)."""


class MemoryAttemptStore:
    """Attempts in this process only: right for one process, and the fallback for Redis."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._attempts: dict[str, dict[str, float]] = {}
        self._next_sweep = 0.0

    def reserve(self, key: str, limit: int, window: float, member: str) -> float:
        now = self._clock()
        with self._lock:
            self._sweep(now, window)
            entries = self._attempts.setdefault(key, {})
            for old, at in list(entries.items()):
                if at <= now - window:
                    del entries[old]
            if len(entries) >= limit:
                return max(min(entries.values()) + window - now, 0.001)
            entries[member] = now
            return 0.0

    def release(self, key: str, member: str) -> None:
        with self._lock:
            entries = self._attempts.get(key)
            if entries is not None:
                entries.pop(member, None)
                if not entries:
                    del self._attempts[key]

    def _sweep(self, now: float, window: float) -> None:
        """Forget keys whose attempts have all left the window (bounded memory under attack)."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + window
        for key in [
            k for k, v in self._attempts.items() if max(v.values(), default=0) <= now - window
        ]:
            del self._attempts[key]


# KEYS[1]: the key. ARGV: window (s), limit, member. Redis's own clock, so machines agree.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return '0'
"""


class RedisAttemptStore:
    """Attempts in Redis, shared by every process; falls back to memory while Redis is down."""

    def __init__(self, client: Any, prefix: str = "webmap:login:") -> None:
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(_RESERVE)
        self._fallback = MemoryAttemptStore()

    def reserve(self, key: str, limit: int, window: float, member: str) -> float:
        import redis

        try:
            answer = self._script(keys=[self._prefix + key], args=[window, limit, member])
        except redis.RedisError as exc:
            log.warning("login throttle: Redis unreachable (%s), counting in memory", exc)
            return self._fallback.reserve(key, limit, window, member)
        wait = float(answer)
        return 0.0 if wait <= 0 else max(wait, 0.001)

    def release(self, key: str, member: str) -> None:
        import redis

        self._fallback.release(key, member)
        # If Redis is down now, the slot counts as a failure until it leaves the window.
        with contextlib.suppress(redis.RedisError):
            self._client.zrem(self._prefix + key, member)


@dataclass(frozen=True)
class Attempt:
    """The slots one login attempt holds, given back by :meth:`LoginThrottle.succeeded`."""

    keys: tuple[str, ...]
    member: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True)
class LoginThrottle:
    """Failed-login limits per user name and per client address over one sliding window."""

    store: AttemptStore
    per_user: int = 5
    per_address: int = 20
    window_seconds: float = 15 * 60

    def begin(self, username: str, address: str | None) -> Attempt:
        """Reserve a slot for this attempt or raise :class:`TooManyAttempts`."""
        rules: list[tuple[str, int]] = [(_key("user", username.lower()), self.per_user)]
        if address:
            rules.append((_key("address", address), self.per_address))
        attempt = Attempt(tuple(key for key, _ in rules))
        taken: list[str] = []
        for key, limit in rules:
            wait = self.store.reserve(key, limit, self.window_seconds, attempt.member)
            if wait > 0:
                self._release(taken, attempt.member)
                seconds = max(1, math.ceil(wait))
                raise TooManyAttempts(
                    "Too many failed logins for this user or from this address; "
                    f"try again in {seconds} seconds.",
                    seconds,
                )
            taken.append(key)
        return attempt

    def succeeded(self, attempt: Attempt) -> None:
        """The attempt was not a failed guess (right password, or the check itself broke)."""
        self._release(attempt.keys, attempt.member)

    def _release(self, keys: Sequence[str], member: str) -> None:
        for key in keys:
            self.store.release(key, member)


def _key(kind: str, value: str) -> str:
    # Hashed: user names and addresses of any length or alphabet make short, safe keys.
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"
