"""Camera frame layouts: validation and conversion to and from RGB float in [0, 1].

A frame is what a camera gives: H×W×3 (BGR, or RGB with ``rgb=True``) or H×W (mono),
dtype uint8 or uint16 (16-bit uses the full 0..65535 range).
"""

from __future__ import annotations

import cv2
import numpy as np

SUPPORTED_DTYPES = (np.uint8, np.uint16)

# Rec.601 luma weights (R, G, B): the ones OpenCV's YCrCb conversion uses, so everything measures brightness alike.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def check_frame(frame: np.ndarray, name: str = "frame") -> None:
    """Raise ValueError/TypeError naming ``name`` unless it is a non-empty uint8/uint16 H×W or H×W×3 array."""
    if not isinstance(frame, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(frame).__name__}")
    if frame.dtype not in SUPPORTED_DTYPES:
        raise TypeError(f"{name} has dtype {frame.dtype}; supported: uint8, uint16")
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] != 3):
        raise ValueError(f"{name} has shape {frame.shape}; expected H×W (mono) or H×W×3 (colour)")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {frame.shape} has 0 pixels")


def max_value(dtype: np.dtype) -> int:
    """Full-scale value of an integer frame dtype (255 or 65535)."""
    return int(np.iinfo(dtype).max)


def to_rgb(frame: np.ndarray, rgb: bool = False) -> np.ndarray:
    """H×W×3 C-contiguous RGB version of a frame (BGR swapped, mono replicated), same dtype.

    OpenCV's colour conversions are used because they are several times faster than numpy's
    strided copies on camera-sized frames.
    """
    check_frame(frame)
    if frame.ndim == 2:
        return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_GRAY2RGB)
    if rgb:
        return np.ascontiguousarray(frame)
    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_BGR2RGB)


def from_rgb(image: np.ndarray, like: np.ndarray, rgb: bool = False) -> np.ndarray:
    """Put an H×W×3 RGB image (dtype of ``like``) back into the layout of ``like``.

    Mono frames take the mean of the three channels: curve models may treat channels of a grey
    input a little differently, and the mean keeps the result independent of channel order.
    """
    if like.ndim == 2:
        if image.dtype == np.uint8:
            return ((image.astype(np.uint16).sum(axis=2) + 1) // 3).astype(np.uint8)
        return np.round(image.mean(axis=2)).astype(like.dtype)
    return np.ascontiguousarray(image) if rgb else cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR)
