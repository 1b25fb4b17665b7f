"""The time budget of one ingest, and running a step that cannot be interrupted under it.

A :class:`Deadline` is checked between steps (and between chunks and features), so a slow
upload is stopped at the next check. Some steps are single C calls that never return to Python
for as long as they run: GEOS ``make_valid`` on a hostile polygon (a 2,000-vertex polygon of
random points takes 15 s, and the time grows with the square of the vertex count) and GDAL's COG
conversion. :func:`run_bounded` runs such a step in a child process and kills the child when
the deadline passes, so the budget holds whatever the data.

Children come from a ``forkserver``: forking the (multi-threaded) web worker itself is unsafe,
and a spawned interpreter would pay the imports on every call; the fork server is started once
per process with the ingest modules imported and forks a fresh single-threaded child in ~40 ms.
"""

from __future__ import annotations

import multiprocessing
import pickle
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from layers.ingest.errors import BudgetExceeded
from layers.ingest.limits import setting_name

T = TypeVar("T")
#: Imported once in the fork server, so that a child starts with them loaded.
_PRELOAD = ["shapely", "numpy", "layers.ingest.validate", "layers.raster.publish"]
_context: Any = None


class Deadline:
    """The end of one ingest's wall-clock budget (``WEBMAP_INGEST_MAX_SECONDS``)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        """Seconds left (negative once the budget is spent)."""
        return self._end - self._clock()

    def check(self, stage: str) -> None:
        """Raise :class:`BudgetExceeded` when the budget is spent; ``stage`` says where."""
        if self.remaining() <= 0:
            raise self.exceeded(stage)

    def exceeded(self, stage: str) -> BudgetExceeded:
        """The refusal for a budget spent while ``stage`` ran."""
        return BudgetExceeded(
            f"Publishing took longer than the {self.seconds:g} s allowed for one upload "
            f"(stopped while {stage}); nothing was published.",
            limit=setting_name("ingest_max_seconds"),
            value=self.seconds,
            stage=stage,
            hint="Split the data into smaller files (by area or by feature type), simplify "
            "very detailed geometries, or ask the operator to raise the limit for a large import "
            "(the command line `webmap layers import` uses the same setting).",
        )

    def statement_timeout_ms(self, cap_ms: int) -> int:
        """The statement timeout for the ingest transaction: the cap, or less when the
        remaining budget is shorter; never 0 (which would mean no timeout at all)."""
        return max(1, min(cap_ms, int(self.remaining() * 1000)))


def _mp_context() -> Any:
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        _context = context
    return _context


def _child(conn: Connection, func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """Run ``func`` and send ("ok", result) or ("error", exception) back to the parent."""
    try:
        message: tuple[str, Any] = ("ok", func(*args))
    except BaseException as exc:  # every failure goes back to the parent
        try:
            pickle.dumps(exc)
            message = ("error", exc)
        except Exception:  # one that cannot cross processes
            message = ("error", RuntimeError(f"{type(exc).__name__}: {exc}"))
    try:
        conn.send(message)
    finally:
        conn.close()


def run_bounded(func: Callable[..., T], args: tuple[Any, ...], deadline: Deadline, stage: str) -> T:
    """``func(*args)`` in a child process, killed when ``deadline`` passes.

    ``func`` must be a module-level function and its arguments and result picklable. An
    exception in the child is raised here again (an ``OSError`` keeps its ``errno``). Raises
    :class:`BudgetExceeded` when the deadline passes first.
    """
    deadline.check(stage)
    context = _mp_context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, func, args), daemon=True)
    try:
        process.start()
    except BaseException:
        receiver.close()
        sender.close()
        raise
    sender.close()
    try:
        # Read before joining: a large result would otherwise block the child on a full pipe.
        if not receiver.poll(max(deadline.remaining(), 0.0)):
            raise deadline.exceeded(stage)
        try:
            status, value = receiver.recv()
        except EOFError:
            raise RuntimeError(
                f"The worker process for {stage} ended without an answer "
                f"(exit code {process.exitcode})."
            ) from None
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        process.close()
        receiver.close()
        sender.close()
    if status == "error":
        raise value
    return value  # type: ignore[no-any-return]
