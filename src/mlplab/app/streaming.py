"""Server-Sent Events that follow a run's ``stream.jsonl`` while it grows.

The trainer's :class:`~mlplab.train.StreamWriter` appends one JSON line per event — ``start``,
``loss`` (every 50 iterations), ``eval`` (every evaluation), ``end`` — and flushes it. Following the
*file* rather than the training thread means a run started with ``mlplab train`` in a terminal shows
up live exactly like one started from the browser.

Each event is sent as ``data: {json}`` (the browser's ``EventSource.onmessage``). The stream begins at
the last ``start`` in the file (a folder trained twice appends a second run), replays everything so
far, then polls for new lines every :data:`POLL_SECONDS`. It ends after the ``end`` event, after an
``error`` (the worker failed), or with a ``stale`` event when the file stops growing without an end
(the training process was killed). The client closes its ``EventSource`` on any of the three, so the
browser does not reconnect and replay.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from mlplab.train.run_folder import STREAM
from mlplab.train.run_schema import parse_stream_line

#: A run whose stream has no ``end`` event and has not grown for this long is not live any more
#: (its process was killed); 60 s is far longer than the gap between two stream events.
STALE_SECONDS = 60.0
POLL_SECONDS = 0.2
HEARTBEAT_SECONDS = 15.0  # a comment line now and then keeps proxies and browsers from timing out
#: How long to wait for ``stream.jsonl`` to appear when the run is being started (loading MNIST
#: takes a second or two before the trainer writes ``start``).
APPEAR_SECONDS = 30.0


def sse(event: dict[str, Any]) -> str:
    """One Server-Sent Event carrying ``event`` as JSON."""
    return f"data: {json.dumps(event)}\n\n"


def last_start_offset(data: bytes) -> int:
    """Byte offset of the last ``start`` line (0 if none): where the current run's events begin."""
    offset = data.rfind(b'{"event": "start"')
    while offset > 0 and data[offset - 1 : offset] != b"\n":
        offset = data.rfind(b'{"event": "start"', 0, offset)
    return max(offset, 0)


class StreamFollower:
    """Reads whole new lines of ``stream.jsonl`` from a byte offset (a half-written line waits)."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / STREAM
        self.offset: int | None = None  # None: not opened yet

    def read(self) -> list[dict[str, Any]]:
        try:
            data = self.path.read_bytes()
        except OSError:
            return []
        if self.offset is None:
            self.offset = last_start_offset(data)
        if len(data) < self.offset:  # the file was replaced: start over
            self.offset = last_start_offset(data)
        end = data.rfind(b"\n", self.offset) + 1
        if end <= self.offset:
            return []
        chunk, self.offset = data[self.offset : end], end
        # a line that is not an event (damage, a hand edit) is skipped: the stream is a view, not the record
        return [event for line in chunk.splitlines() if (event := parse_stream_line(line)) is not None]


def stream_is_live(run_dir: Path, events: list[dict[str, Any]] | None = None) -> bool:
    """A run is live when its stream has started, not ended, and grew within :data:`STALE_SECONDS`."""
    events = StreamFollower(run_dir).read() if events is None else events
    if not events or events[-1].get("event") == "end":
        return False
    return _age(Path(run_dir) / STREAM) < STALE_SECONDS


async def follow(
    run_dir: Path,
    *,
    job_error: Callable[[], str | None] = lambda: None,
    job_active: Callable[[], bool] = lambda: False,
    closing: Callable[[], bool] = lambda: False,
    disconnected: Callable[[], Any] | None = None,
    stale_seconds: float = STALE_SECONDS,
) -> AsyncIterator[str]:
    """The SSE text of a run: everything so far, then each new event as it is written.

    ``job_error`` / ``job_active`` come from the app's worker (for runs it started); ``closing`` is the
    server shutting down; ``disconnected`` is an awaitable check of the browser's connection.
    """
    follower = StreamFollower(run_dir)
    yield "retry: 3000\n\n"
    started = time.monotonic()
    heartbeat = time.monotonic()
    while True:
        for event in follower.read():
            yield sse(event)
            if event.get("event") == "end":
                return
        error = job_error()
        if error:
            yield sse({"event": "error", "message": error})
            return
        now = time.monotonic()
        if not follower.path.exists():
            if not job_active() and now - started > (APPEAR_SECONDS if (run_dir / "config.json").exists() else 0):
                yield sse({"event": "stale", "message": "this run has no stream.jsonl to follow."})
                return
        elif not job_active() and _age(follower.path) > stale_seconds:
            yield sse({"event": "stale", "message": "the run stopped writing without an end event "
                                                    "(its process was killed?); showing what it recorded."})
            return
        if closing():
            yield sse({"event": "closing", "message": "the server is shutting down."})
            return
        if disconnected is not None and await disconnected():
            return
        if now - heartbeat > HEARTBEAT_SECONDS:
            heartbeat = now
            yield ": keep-alive\n\n"
        await asyncio.sleep(POLL_SECONDS)


def _age(path: Path) -> float:
    """Seconds since ``path`` was last written (0 if it cannot be read)."""
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0
