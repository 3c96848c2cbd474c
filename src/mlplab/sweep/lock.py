"""One sweep at a time per folder: a lock file that says who holds it.

Resuming a sweep deletes the leftovers of unfinished runs before it runs them again. Typed while the
first sweep still runs, the same command would delete that sweep's runs in progress — so a sweep
holds ``DIR/.sweep.lock`` while it works, and a second one is refused with a sentence naming the
holder::

    the sweep folder runs/grid is in use by process 1234 (started 12:03:01); wait for it to end,
    or choose another --out.

The lock is the operating system's ``flock`` on that file, so it ends with its process however the
process ends (even SIGKILL): a lock file left behind by a dead sweep is simply taken over, with a
message. The file's text — pid, host, start time — is only there to be read by people and by the
message above. Where ``flock`` is missing (Windows), the file itself is the lock (created with
``O_EXCL``) and a file whose process no longer runs on this host is taken over.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mlplab.errors import ConfigError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK = ".sweep.lock"
#: folder → thread holding its lock in this process (so that holding it twice is not a conflict)
_held: dict[Path, int] = {}


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a sweep folder, as its lock file says."""

    pid: int
    host: str
    started: str  # "2026-11-30 12:03:01"

    @classmethod
    def me(cls) -> Holder:
        return cls(os.getpid(), socket.gethostname(), time.strftime("%Y-%m-%d %H:%M:%S"))

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        try:
            d = json.loads(text)
            return cls(int(d["pid"]), str(d["host"]), str(d["started"]))
        except (ValueError, TypeError, KeyError):
            return None  # empty (being written) or not ours: the message says less, nothing breaks

    def text(self) -> str:
        return json.dumps({"pid": self.pid, "host": self.host, "started": self.started})

    def describe(self) -> str:
        """``process 1234 (started 12:03:01)``, with the host when it is another computer."""
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        day, _, clock = self.started.partition(" ")
        when = clock if day == time.strftime("%Y-%m-%d") else self.started
        return f"process {self.pid}{where} (started {when})"


def in_use(folder: Path, holder: Holder | None) -> ConfigError:
    who = holder.describe() if holder else "another sweep"
    return ConfigError(f"the sweep folder {folder} is in use by {who}; wait for it to end, or choose another --out.")


def _running_here(holder: Holder) -> bool:
    """Whether the holder's process still runs (a holder on another host is assumed to)."""
    if holder.host != socket.gethostname():
        return True
    try:
        os.kill(holder.pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


@contextlib.contextmanager
def sweep_lock(folder: str | Path, on_message: Callable[[str], None] | None = None) -> Iterator[Holder]:
    """Hold ``folder``'s lock for the ``with`` block, or raise :class:`ConfigError` naming its holder.

    ``on_message`` hears about a stale lock taken over (its process had ended).
    """
    folder = Path(folder)
    path = folder / LOCK
    key = folder.resolve()
    if _held.get(key) == threading.get_ident():  # the CLI holds it around run_sweep, which asks again
        yield Holder.me()
        return
    acquire = _acquire_flock if fcntl is not None else _acquire_exclusive
    fd, previous = acquire(folder, path)
    me = Holder.me()
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, me.text().encode())
    if previous is not None and on_message is not None:
        on_message(f"note: took over the lock of {folder} left by {previous.describe()}, which no longer runs.")
    _held[key] = threading.get_ident()
    try:
        yield me
    finally:
        del _held[key]
        with contextlib.suppress(OSError):
            path.unlink()  # before closing: whoever waits then finds no file, or a fresh one
        os.close(fd)


def _acquire_flock(folder: Path, path: Path) -> tuple[int, Holder | None]:
    """``(descriptor holding the flock, holder of a stale file we took over or None)``."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # BlockingIOError: held by a live process
            holder = Holder.parse(_read(fd))
            os.close(fd)
            raise in_use(folder, holder) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd, Holder.parse(_read(fd))  # a file with text but no flock: its process has ended
        os.close(fd)  # its holder removed the file while we waited for it: try the new one


def _acquire_exclusive(folder: Path, path: Path) -> tuple[int, Holder | None]:  # pragma: no cover - Windows
    stale = None
    for _ in range(3):
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644), stale
        except FileExistsError:
            holder = Holder.parse(path.read_text(errors="replace"))
            if holder is None or _running_here(holder):
                raise in_use(folder, holder) from None
            stale = holder
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    raise in_use(folder, None)


def _read(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, 4096).decode(errors="replace")
