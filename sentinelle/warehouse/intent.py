"""A writer's intent to take the warehouse, told to the readers that hold it.

DuckDB lets one process write a file, and a writer needs it to itself. The web
application keeps the warehouse open read-only while requests are being answered, and for
a moment after (opening it again costs more than a request). A writer (ingestion,
detection, resolution) first leaves a small file beside the warehouse, ``<db>.writer``,
holding its process id: readers then stop opening the file for new requests, close it as
soon as the requests in flight end, and wait (or answer "busy") until the writer has
finished and removed the file. A file left by a writer that died is ignored: its process
no longer exists.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Callable
from pathlib import Path

# Readers in this process, by warehouse: told at once when a writer here declares itself
# (readers in other processes find the file on their next request, or when they linger).
_readers: dict[Path, list[weakref.WeakMethod[Callable[[], None]]]] = {}


def on_intent(db: str | Path, close_if_idle: Callable[[], None]) -> None:
    """Call ``close_if_idle`` (a bound method) when a writer of this process declares
    itself for ``db``."""
    _readers.setdefault(Path(db).resolve(), []).append(weakref.WeakMethod(close_if_idle))


def intent_path(db: str | Path) -> Path:
    return Path(f"{db}.writer")


def declare(db: str | Path) -> Path:
    """Say that this process is about to write ``db``; returns the file to remove."""
    path = intent_path(db)
    with contextlib.suppress(OSError):  # a read-only folder: readers simply are not told
        path.write_text(str(os.getpid()), encoding="ascii")
    for ref in _readers.get(Path(db).resolve(), []):
        close = ref()
        if close is not None:
            close()
    return path


def withdraw(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.read_text(encoding="ascii").strip() == str(os.getpid()):
            path.unlink()


def waiting(db: str | Path) -> bool:
    """Whether a live process has declared it is about to write ``db``."""
    path = intent_path(db)
    try:
        pid = int(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return False
    if pid == os.getpid():
        return False  # this process's own writer does not wait on its own readers
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True


__all__ = ["declare", "intent_path", "on_intent", "waiting", "withdraw"]
