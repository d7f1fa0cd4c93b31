"""Frames lost before they reach the node (transport, DDS buffers, a stalled player), from header stamps.

Counters at the node only see frames that arrive; these two estimates see the ones that did not:

- **stamp gaps**: the stream's frame period is the median of the recent deltas between image stamps; a delta of
  about k periods means k − 1 frames are missing. Works without camera_info, and for sparse losses.
- **camera_info without its image**: cameras publish one CameraInfo per image with the same stamp; a camera_info
  stamp that no image arrived with is a lost frame. Works when almost every image is lost (the stamp deltas of the
  few that arrive then say nothing about the period). Misses count once the two streams are seen to pair (one
  stamp matched; earlier misses are counted then), or while no image has arrived at all; a camera_info publisher
  with stamps of its own therefore raises no alarm. A camera_info is judged once a later image arrived or
  INFO_LAG newer camera_info did; ``flush`` judges the rest when the stream has ended.

``lost`` is the larger of the two: both count the same missing frames, each misses some the other sees.
"""

from __future__ import annotations

import statistics
from collections import deque

# Deltas in the period estimate: enough for a stable median, few enough to follow a changed frame rate quickly.
PERIOD_WINDOW = 31
MIN_DELTAS = 5
# A camera_info stamp is settled once an image with a later stamp has arrived, or once this many newer
# camera_info messages have (images stopped arriving); an image may arrive a little after its camera_info.
INFO_LAG = 30
# Image stamps remembered for matching camera_info (a few seconds at camera rates).
STAMP_MEMORY = 512


class LossCounter:
    """Counts frames lost before the node from the stamps of the images and camera_info that did arrive."""

    def __init__(self) -> None:
        self.gaps = 0  # frames missing between consecutive image stamps
        self.unmatched = 0  # camera_info stamps whose image never arrived
        self._last: int | None = None
        self._deltas: deque[int] = deque(maxlen=PERIOD_WINDOW)
        self._images: deque[int] = deque(maxlen=STAMP_MEMORY)
        self._image_set: set[int] = set()
        self._newest_image: int | None = None
        self._infos: deque[int] = deque()
        self._last_info: int | None = None
        self._paired = False
        self._provisional = 0  # misses while images arrive but no stamp has matched yet

    @property
    def lost(self) -> int:
        """Frames lost before the node (the larger of the two estimates)."""
        return max(self.gaps, self.unmatched)

    @property
    def period_ns(self) -> float | None:
        """The stream's frame period from recent image stamps, or None before there are enough."""
        return statistics.median(self._deltas) if len(self._deltas) >= MIN_DELTAS else None

    def on_image(self, stamp_ns: int) -> None:
        """An image with this header stamp arrived."""
        if stamp_ns <= 0:
            return  # unstamped
        if self._last is not None:
            delta = stamp_ns - self._last
            if delta < 0:  # time went back (a replay looped, a clock reset): estimate afresh
                self._deltas.clear()
                self._newest_image = None
            elif delta > 0:
                period = self.period_ns
                if period:
                    self.gaps += max(0, round(delta / period) - 1)
                self._deltas.append(delta)
        self._last = stamp_ns
        if stamp_ns not in self._image_set:
            if len(self._images) == self._images.maxlen:
                self._image_set.discard(self._images[0])
            self._images.append(stamp_ns)
            self._image_set.add(stamp_ns)
        self._newest_image = stamp_ns if self._newest_image is None else max(self._newest_image, stamp_ns)
        self._settle()

    def on_camera_info(self, stamp_ns: int) -> None:
        """A camera_info with this header stamp arrived."""
        if stamp_ns <= 0 or stamp_ns == self._last_info:
            return
        if self._last_info is not None and stamp_ns < self._last_info:
            self._newest_image = None  # time went back: images of the old pass must not settle the new one
        self._last_info = stamp_ns
        self._infos.append(stamp_ns)
        self._settle()

    def flush(self) -> None:
        """Settle every camera_info still waiting for its image: the stream has ended (or stopped for long)."""
        while self._infos:
            self._judge(self._infos.popleft())

    def _settle(self) -> None:
        while self._infos:
            stamp = self._infos[0]
            later_image = self._newest_image is not None and self._newest_image > stamp
            if not later_image and len(self._infos) <= INFO_LAG:
                return
            self._judge(self._infos.popleft())

    def _judge(self, stamp: int) -> None:
        if stamp in self._image_set:
            self._paired = True
            self.unmatched += self._provisional
            self._provisional = 0
        elif self._paired or self._newest_image is None:
            self.unmatched += 1
        else:
            self._provisional += 1
