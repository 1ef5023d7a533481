"""Rendered answers kept while the registry has not changed.

Every page is a pure function of the registry's content and the request, so an answer is
kept under the request and the catalog's change token (:meth:`Catalog.token`); the next
push, delete, alias move or recorded window changes the token and so every key. The
token is read again at most every :data:`FRESH_FOR` seconds (:class:`ChangeToken`), so a
change shows within that time and a kept answer costs neither a thread nor a query. Bounded
by total bytes, least recently used first out. Requests for an answer being built wait
for it instead of building it again. Downloads are never kept: each one reads and
verifies the stored bytes.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_BYTES = 64 * 1024 * 1024
FRESH_FOR = 0.5
"""Seconds a read change token is trusted before it is read again."""


@dataclass(frozen=True)
class Kept:
    """One kept answer."""

    body: bytes
    status: int
    media_type: str


class AnswerCache:
    """A thread-safe LRU of answers, bounded by their total size."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._kept: OrderedDict[Any, Kept] = OrderedDict()
        self._size = 0
        self._guard = threading.Lock()
        self._building: dict[Any, threading.Lock] = {}

    def answer(self, key: Any, build: Callable[[], Kept]) -> Kept:
        """The answer kept under ``key``, else ``build()``'s, kept; one build per key at a
        time (a failed build raises for its caller and the next caller builds again)."""
        found = self.get(key)
        if found is not None:
            return found
        with self._guard:
            building = self._building.setdefault(key, threading.Lock())
        with building:
            found = self.get(key)
            if found is None:
                found = build()
                self.put(key, found)
        with self._guard:
            self._building.pop(key, None)
        return found

    def get(self, key: Any) -> Kept | None:
        """The answer kept under ``key``, if any."""
        with self._guard:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: Any, answer: Kept) -> None:
        """Keep ``answer`` (unless it alone exceeds the bound), dropping the oldest."""
        if len(answer.body) > self.max_bytes:
            return
        with self._guard:
            previous = self._kept.pop(key, None)
            if previous is not None:
                self._size -= len(previous.body)
            self._kept[key] = answer
            self._size += len(answer.body)
            while self._size > self.max_bytes:
                _, dropped = self._kept.popitem(last=False)
                self._size -= len(dropped.body)


class ChangeToken:
    """The registry's change token, read (in a worker thread) at most every ``fresh_for``
    seconds; concurrent requests share one read."""

    def __init__(self, read: Callable[[], Any], fresh_for: float = FRESH_FOR) -> None:
        self._read = read
        self.fresh_for = fresh_for
        self._value: Any = None
        self._at = -float("inf")
        self._lock: asyncio.Lock | None = None

    def _fresh(self) -> bool:
        return time.monotonic() - self._at < self.fresh_for

    async def current(self) -> Any:
        """The token, read again when older than ``fresh_for``."""
        from starlette.concurrency import run_in_threadpool

        if self._fresh():
            return self._value
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if not self._fresh():
                self._value = await run_in_threadpool(self._read)
                self._at = time.monotonic()
            return self._value
