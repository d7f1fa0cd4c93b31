"""Keep-latest intake of a camera stream: a one-frame buffer that a newer frame replaces, and its consumer thread.

A consumer slower than the camera then always works on the newest frame and the replaced ones are counted as
dropped, instead of a queue growing behind it. The ROS nodes (llie_ros.processing) and ``llie live`` use it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    """Thread-safe single-slot buffer: a new item replaces a waiting one, which is returned as dropped.

    A slow consumer therefore always gets the newest frame instead of working through a stale queue.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._full = False
        self._closed = False
        self.dropped = 0

    def put(self, item: T) -> T | None:
        """Store an item; returns the unconsumed item it replaced (counted as dropped), else None."""
        with self._cond:
            old = self._item if self._full else None
            if self._full:
                self.dropped += 1
            self._item, self._full = item, True
            self._cond.notify()
            return old

    def take(self, timeout: float | None = None) -> T | None:
        """Wait for an item and remove it; None on timeout or once closed."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._full or self._closed, timeout=timeout):
                return None
            if not self._full:
                return None
            item, self._item, self._full = self._item, None, False
            return item

    def close(self) -> None:
        """Wake and release every waiting consumer."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._closed


class FrameWorker:
    """One consumer thread that takes the latest item from a LatestSlot and hands it to ``handler``.

    The handler's exceptions are passed to ``on_error`` and never end the thread.
    """

    def __init__(
        self,
        handler: Callable[[Any], None],
        on_error: Callable[[BaseException], None] | None = None,
        name: str = "llie-frame-worker",
    ) -> None:
        self.slot: LatestSlot[Any] = LatestSlot()
        self._handler, self._on_error = handler, on_error
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> FrameWorker:
        """Start the consumer thread."""
        self._thread.start()
        return self

    def submit(self, item: Any) -> bool:
        """Offer an item; False when it replaced one still waiting (a drop)."""
        return self.slot.put(item) is None

    def stop(self, timeout: float = 2.0) -> bool:
        """Close the slot and wait for the thread to finish its current item; True when an item was left waiting."""
        self.slot.close()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return self.slot.take(timeout=0) is not None

    def _run(self) -> None:
        while not self.slot.closed:
            item = self.slot.take(timeout=0.5)
            if item is None:
                continue
            try:
                self._handler(item)
            except Exception as exc:  # a bad frame must never kill the node
                if self._on_error is not None:
                    self._on_error(exc)
