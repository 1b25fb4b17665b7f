"""A small closed-loop HTTP load generator for the reliability benchmark (asyncio, keep-alive).

Each simulated client holds one keep-alive connection and sends the next request as soon as the
previous answer is read, so ``clients`` is the concurrency. Plain asyncio streams keep 200
clients cheap on one core and need no extra package; only 127.0.0.1 is ever contacted.

Every answer is recorded with the time it was *sent* (seconds since the run began), its status
(0 for a connection error or timeout) and its latency, so a scenario can ask afterwards what
happened in any time window, e.g. during a database outage or after it ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Answer:
    """One request's outcome."""

    sent_at: float
    status: int
    latency: float
    path: str


@dataclass
class Recording:
    """Everything a run saw; windows of it are summarised by :func:`summarise`."""

    answers: list[Answer] = field(default_factory=list)
    #: ``time.monotonic()`` when the run began: ``sent_at`` counts from here.
    began: float = 0.0

    def between(self, start: float, end: float) -> list[Answer]:
        return [a for a in self.answers if start <= a.sent_at < end]


@dataclass(frozen=True)
class Summary:
    requests: int
    by_status: dict[int, int]
    p50_ms: float
    p99_ms: float
    max_ms: float

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.by_status.items() if not 200 <= status < 300)

    def statuses(self) -> str:
        return ", ".join(f"{s or 'conn-error'}: {n}" for s, n in sorted(self.by_status.items()))


def summarise(answers: Sequence[Answer]) -> Summary:
    """Counts by status and latency percentiles (milliseconds) of ``answers``."""
    if not answers:
        return Summary(0, {}, 0.0, 0.0, 0.0)
    latencies = sorted(a.latency * 1000 for a in answers)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Summary(
        requests=len(answers),
        by_status=dict(Counter(a.status for a in answers)),
        p50_ms=statistics.median(latencies),
        p99_ms=p99,
        max_ms=latencies[-1],
    )


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str
) -> tuple[int, bool]:
    """Send one GET and read the whole answer; returns (status, whether to keep the connection)."""
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n\r\n".encode()
    )
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length, chunked, keep = 0, False, True
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection" and value == "close":
            keep = False
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status, keep


async def _client(
    host: str,
    port: int,
    next_path: Callable[[], str],
    until: float,
    began: float,
    timeout: float,
    recording: Recording,
) -> None:
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    while (now := time.monotonic()) < until:
        path = next_path()
        status, keep = 0, False
        try:
            if connection is None:
                connection = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            status, keep = await asyncio.wait_for(
                _request(*connection, f"{host}:{port}", path), timeout
            )
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            status, keep = 0, False
        latency = time.monotonic() - now
        recording.answers.append(Answer(now - began, status, latency, path))
        if not keep and connection is not None:
            connection[1].close()
            with contextlib.suppress(Exception):
                await connection[1].wait_closed()
            connection = None
        if status == 0:
            await asyncio.sleep(0.05)  # a refused connection must not become a busy loop
    if connection is not None:
        connection[1].close()


async def run_load(
    port: int,
    paths: Sequence[str],
    clients: int,
    seconds: float,
    events: Sequence[tuple[float, Callable[[], None]]] = (),
    host: str = "127.0.0.1",
    timeout: float = 10.0,
    seed: int = 1,
) -> Recording:
    """Drive ``clients`` closed-loop clients over ``paths`` for ``seconds``.

    ``events`` are (seconds after start, blocking action) run in a thread while the load goes
    on: kill a worker, stop the database, start it again.
    """
    began = time.monotonic()
    recording = Recording(began=began)
    pick = random.Random(seed)
    until = began + seconds

    async def fire(delay: float, action: Callable[[], None]) -> None:
        await asyncio.sleep(delay)
        await asyncio.to_thread(action)

    tasks = [
        asyncio.create_task(
            _client(host, port, lambda: pick.choice(paths), until, began, timeout, recording)
        )
        for _ in range(clients)
    ]
    tasks += [asyncio.create_task(fire(delay, action)) for delay, action in events]
    await asyncio.gather(*tasks)
    return recording


def recovery_seconds(recording: Recording, since: float) -> float | None:
    """Seconds from ``since`` until the first moment after which every answer was 2xx."""
    later = sorted((a for a in recording.answers if a.sent_at >= since), key=lambda a: a.sent_at)
    last_bad = None
    for answer in later:
        if not 200 <= answer.status < 300:
            last_bad = answer.sent_at + answer.latency
    if not later:
        return None
    return 0.0 if last_bad is None else max(0.0, last_bad - since)


async def slow_header_clients(
    port: int, count: int, seconds: float, host: str = "127.0.0.1"
) -> int:
    """Hold ``count`` connections that send one header line every 2 s (a slowloris).

    Returns how many connections the server had closed by the end: a buffering proxy closes
    them after its header timeout, while a threaded app server would keep a thread on each.
    """
    until = time.monotonic() + seconds

    async def trickle(n: int) -> bool:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            return True
        try:
            writer.write(f"GET /healthz?slow={n} HTTP/1.1\r\nHost: {host}\r\n".encode())
            line = 0
            while time.monotonic() < until:
                await asyncio.sleep(2)
                writer.write(f"X-Slow-{line}: {'a' * 8}\r\n".encode())
                await writer.drain()
                line += 1
                if reader.at_eof():
                    return True
            return False
        except OSError:
            return True
        finally:
            writer.close()

    closed = await asyncio.gather(*(trickle(n) for n in range(count)))
    return sum(closed)
