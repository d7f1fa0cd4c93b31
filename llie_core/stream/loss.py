"""Frames lost before they reach the node (transport, DDS buffers, a stalled player), from header stamps.

Counters at the node only see frames that arrive; two kinds of evidence show the ones that did not:

- **camera_info without its image** (``unmatched``): cameras publish one CameraInfo per image with the same
  stamp; a camera_info stamp that no image arrived with is a lost frame. Works when almost every image is lost.
  Misses count once the two streams are seen to pair (one stamp matched; earlier misses are counted then), or
  while no image has arrived at all; a camera_info publisher with stamps of its own therefore raises no alarm. A
  camera_info is judged once a later image arrived or INFO_LAG newer camera_info did; ``flush`` judges the rest
  when the stream has ended.
- **stamp gaps** (``gaps``): a delta of about k frame periods between consecutive image stamps means k − 1 frames
  are missing. The period is the median of recent deltas of the camera_info stamps once they pair with the images
  (the camera's full rate, even when the images that arrive are sparse: a detector behind a keep-latest enhancer),
  else of the image stamps. Only the missing frames whose camera_info did not arrive either are added here: a gap
  is settled once the camera_info stream has passed its end, so the camera_info of its frames has been judged.

``lost = unmatched + gaps``: each missing frame is counted once, by its camera_info when that arrived, else by
the gap it leaves.
"""

from __future__ import annotations

import bisect
import statistics
from collections import deque

# Deltas in the period estimate: enough for a stable median, few enough to follow a changed frame rate quickly.
PERIOD_WINDOW = 31
MIN_DELTAS = 5
# A camera_info stamp is settled once an image with a later stamp has arrived, or once this many newer
# camera_info messages have (images stopped arriving); an image may arrive a little after its camera_info.
# Likewise a gap is settled once this many newer gaps wait (camera_info stopped arriving).
INFO_LAG = 30
# Image stamps remembered for matching camera_info (a few seconds at camera rates).
STAMP_MEMORY = 512


class _Period:
    """The median of the recent positive deltas between consecutive stamps of one stream."""

    def __init__(self) -> None:
        self.last: int | None = None
        self.deltas: deque[int] = deque(maxlen=PERIOD_WINDOW)

    def add(self, stamp: int) -> None:
        if self.last is not None and stamp > self.last:
            self.deltas.append(stamp - self.last)
        self.last = stamp

    def reset(self) -> None:
        self.last = None
        self.deltas.clear()

    @property
    def value(self) -> float | None:
        return statistics.median(self.deltas) if len(self.deltas) >= MIN_DELTAS else None


class LossCounter:
    """Counts frames lost before the node from the stamps of the images and camera_info that did arrive."""

    def __init__(self) -> None:
        self.gaps = 0  # missing frames seen only as gaps between image stamps (their camera_info was lost too)
        self.unmatched = 0  # camera_info stamps whose image never arrived
        self._image_period, self._info_period = _Period(), _Period()
        self._images: deque[int] = deque(maxlen=STAMP_MEMORY)
        self._image_set: set[int] = set()
        self._newest_image: int | None = None
        self._infos: deque[int] = deque()
        self._last_info: int | None = None
        self._paired = False
        self._provisional = 0  # misses while images arrive but no stamp has matched yet
        self._missed: list[int] = []  # recent unmatched camera_info stamps, sorted, for the gaps they fall in
        self._pending_gaps: deque[tuple[int, int]] = deque()  # (start, end) image stamps, not settled yet

    @property
    def lost(self) -> int:
        """Frames lost before the node."""
        return self.unmatched + self.gaps

    @property
    def period_ns(self) -> float | None:
        """The stream's frame period (see the module docstring), or None before there are enough stamps."""
        info = self._info_period.value if self._paired else None
        return info or self._image_period.value

    def on_image(self, stamp_ns: int) -> None:
        """An image with this header stamp arrived."""
        if stamp_ns <= 0:
            return  # unstamped
        last = self._image_period.last
        if last is not None and stamp_ns < last:  # time went back (a replay looped, a clock reset): afresh
            self._settle_gaps(force=True)
            self._image_period.reset()
            self._newest_image = None
            last = None
        self._image_period.add(stamp_ns)
        if last is not None and stamp_ns > last:
            self._pending_gaps.append((last, stamp_ns))
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
            # Time went back: images of the old pass must not settle the new one.
            self._settle_gaps(force=True)
            self._newest_image = None
            self._info_period.reset()
            self._missed.clear()
        self._last_info = stamp_ns
        self._info_period.add(stamp_ns)
        self._infos.append(stamp_ns)
        self._settle()

    def flush(self) -> None:
        """Settle every camera_info and gap still waiting: the stream has ended (or stopped for long)."""
        while self._infos:
            self._judge(self._infos.popleft())
        self._settle_gaps(force=True)

    def _settle(self) -> None:
        while self._infos:
            stamp = self._infos[0]
            later_image = self._newest_image is not None and self._newest_image > stamp
            if not later_image and len(self._infos) <= INFO_LAG:
                break
            self._judge(self._infos.popleft())
        self._settle_gaps(force=len(self._pending_gaps) > INFO_LAG)

    def _judge(self, stamp: int) -> None:
        if stamp in self._image_set:
            self._paired = True
            self.unmatched += self._provisional
            self._provisional = 0
            return
        if self._paired or self._newest_image is None:
            self.unmatched += 1
        else:
            self._provisional += 1
        if not self._missed or stamp > self._missed[-1]:
            self._missed.append(stamp)
        else:
            bisect.insort(self._missed, stamp)
        if len(self._missed) > STAMP_MEMORY:  # no image for long: no gap will ask about the oldest ones
            del self._missed[0]

    def _settle_gaps(self, force: bool) -> None:
        """Count the frames of settled gaps whose camera_info did not show them either."""
        while self._pending_gaps:
            start, end = self._pending_gaps[0]
            # Settled once every camera_info up to its end has arrived and been judged; at once without camera_info.
            infos_passed = self._last_info is not None and self._last_info >= end and not self._waiting_before(end)
            if not (force or infos_passed or self._last_info is None):
                return
            self._pending_gaps.popleft()
            period = self.period_ns
            if period:
                missing = max(0, round((end - start) / period) - 1)
                seen = 0
                if self._paired:
                    seen = bisect.bisect_left(self._missed, end) - bisect.bisect_right(self._missed, start)
                self.gaps += max(0, missing - seen)
            # Unmatched stamps before this gap's end are no longer needed.
            del self._missed[: bisect.bisect_left(self._missed, end)]

    def _waiting_before(self, stamp: int) -> bool:
        return bool(self._infos) and self._infos[0] < stamp
