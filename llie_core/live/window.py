"""The optional OpenCV window of ``llie live``: the frame as read beside the enhanced one with its boxes, and latency.

Only where a display exists: ``check_display`` refuses early, with the reason, when there is none (no DISPLAY or
WAYLAND_DISPLAY on Linux) or when OpenCV was built without a GUI (opencv-python-headless).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

import cv2
import numpy as np

QUIT_KEYS = (ord("q"), 27)  # q, Esc


class WindowError(RuntimeError):
    """No window can be shown here: the text says why."""


def check_display(env: Mapping[str, str] | None = None, build_info: str | None = None) -> None:
    """Raise WindowError unless a window can be opened (a display, and OpenCV with a GUI backend)."""
    env = os.environ if env is None else env
    if sys.platform.startswith("linux") and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        raise WindowError("--window needs a display: DISPLAY (or WAYLAND_DISPLAY) is not set; use the Foxglove view")
    info = cv2.getBuildInformation() if build_info is None else build_info
    gui = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.strip().startswith("GUI:")), "")
    if gui.upper() in ("", "NONE"):
        raise WindowError(
            "--window: this OpenCV has no GUI backend (opencv-python-headless); install opencv-python "
            "or use the Foxglove view"
        )


def draw_lines(image: np.ndarray, lines: Sequence[str]) -> np.ndarray:
    """``image`` (BGR uint8) with ``lines`` written top left on a dark band, in place; returns it."""
    if not lines:
        return image
    scale, thick, step = 0.5, 1, 18
    width = max(cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)[0][0] for line in lines) + 12
    band = image[: step * len(lines) + 8, :width]
    band[:] = (band.astype(np.uint16) * 2 // 5).astype(np.uint8)  # darken, so the text reads on bright frames
    for i, line in enumerate(lines):
        org = (6, step * (i + 1))
        cv2.putText(image, line, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA)
    return image


class LiveWindow:
    """One window showing ``raw | enhanced`` scaled to at most ``max_width`` pixels, with text lines on top."""

    def __init__(self, title: str = "llie live", max_width: int = 1600) -> None:
        check_display()
        self.title, self.max_width = title, max_width
        try:
            cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)  # image size, no toolbar
        except cv2.error as exc:
            raise WindowError(f"--window: OpenCV cannot open a window: {exc}") from exc

    def show(self, raw: np.ndarray, enhanced: np.ndarray, lines: Sequence[str]) -> bool:
        """Show one frame pair; False once the user pressed q or Esc or closed the window."""
        pair = np.concatenate([raw, enhanced], axis=1)
        if pair.shape[1] > self.max_width:
            factor = self.max_width / pair.shape[1]
            pair = cv2.resize(pair, (self.max_width, round(pair.shape[0] * factor)), interpolation=cv2.INTER_AREA)
        cv2.imshow(self.title, draw_lines(pair, lines))
        key = cv2.waitKey(1) & 0xFF
        closed = cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1
        return key not in QUIT_KEYS and not closed

    def close(self) -> None:
        """Close the window."""
        cv2.destroyWindow(self.title)
