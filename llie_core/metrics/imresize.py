"""MATLAB-compatible ``imresize`` (bicubic, antialiased when shrinking), as used by NIQE and LOE."""

from __future__ import annotations

import numpy as np


def _cubic(x: np.ndarray) -> np.ndarray:
    # Keys' cubic convolution kernel with a = -0.5 (MATLAB's 'bicubic').
    ax = np.abs(x)
    ax2, ax3 = ax**2, ax**3
    return (1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1) + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2))


def _weights(in_len: int, out_len: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(out_len×P weights, out_len×P 0-based source indices) of one axis, as MATLAB's contributions()."""
    kernel_width = 4.0
    antialias = scale < 1
    if antialias:
        kernel_width /= scale
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - kernel_width / 2)
    taps = int(np.ceil(kernel_width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]  # 1-based
    dist = u[:, None] - idx
    w = scale * _cubic(scale * dist) if antialias else _cubic(dist)
    w = w / w.sum(axis=1, keepdims=True)
    # Mirror out-of-range indices (MATLAB: aux = [1:in, in:-1:1]).
    aux = np.concatenate([np.arange(in_len), np.arange(in_len)[::-1]])
    idx = aux[np.mod(idx.astype(np.int64) - 1, 2 * in_len)]
    keep = np.any(w != 0, axis=0)  # MATLAB drops all-zero tap columns
    return w[:, keep], idx[:, keep]


def imresize(image: np.ndarray, output_shape: tuple[int, int] | None = None, scale: float | None = None) -> np.ndarray:
    """Resize a float H×W (or H×W×C) array like MATLAB imresize(..., 'bicubic'); returns float64.

    Give ``scale`` (output = ceil(scale·size)) or ``output_shape`` (rows, cols).
    """
    img = np.asarray(image, dtype=np.float64)
    h, w = img.shape[:2]
    if output_shape is None:
        if scale is None:
            raise ValueError("imresize needs output_shape or scale")
        output_shape = (int(np.ceil(h * scale)), int(np.ceil(w * scale)))
        scales = (scale, scale)
    else:
        scales = (output_shape[0] / h, output_shape[1] / w)
    # MATLAB resizes the dimension with the smaller scale first.
    order = np.argsort(scales, kind="stable")
    out = img
    for axis in order:
        wts, idx = _weights(out.shape[axis], output_shape[axis], scales[axis])
        moved = np.moveaxis(out, axis, 0)
        gathered = moved[idx]  # out_len×P×...
        res = np.einsum("op,op...->o...", wts, gathered)
        out = np.moveaxis(res, 0, axis)
    return out
