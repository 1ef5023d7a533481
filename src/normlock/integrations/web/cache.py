"""Rendered answers kept while the registry has not changed.

Every page is a pure function of the registry's content and the request, so an answer is
kept under the request and the catalog's change token (:meth:`Catalog.token`); the next
push, delete, alias move or recorded window changes the token and so every key. Bounded
by total bytes, least recently used first out. Downloads are never kept: each one reads
and verifies the stored bytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

MAX_BYTES = 64 * 1024 * 1024


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
