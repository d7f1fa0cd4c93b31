"""The compiled luma passes against OpenCV: Y of YCrCb, CLAHE, and the luma-to-colour transfer."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from llie_core.classical.luma import clahe_colour, clahe_luma, luma, transfer_luma

DTYPES = [np.uint8, np.uint16]


def _image(shape, dtype, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    # a smooth dark gradient plus noise: realistic histograms, not a flat uniform one
    ramp = np.linspace(0.02, 0.4, shape[1])[None, :, None] * np.linspace(0.5, 1.0, shape[0])[:, None, None]
    noisy = ramp + rng.normal(0, 0.03, (*shape, 3))
    return (np.clip(noisy, 0, 1) * top).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bgr", [False, True])
def test_luma_equals_opencv_ycrcb_y(dtype, bgr):
    image = _image((33, 47), dtype)
    code = cv2.COLOR_BGR2YCrCb if bgr else cv2.COLOR_RGB2YCrCb
    np.testing.assert_array_equal(luma(image, bgr=bgr), cv2.cvtColor(image, code)[:, :, 0])


@pytest.mark.parametrize(
    ("shape", "clip", "grid", "dtype"),
    [
        ((1080, 1920), 2.0, 8, np.uint8),  # whole tiles
        ((101, 77), 3.0, 8, np.uint8),  # padded tiles
        ((96, 64), 0.5, 4, np.uint8),  # low clip limit: much excess redistributed
        ((64, 96), 40.0, 2, np.uint8),  # clip limit above every bin: plain tile equalisation
        ((120, 160), 2.0, 8, np.uint16),
    ],
)
def test_clahe_luma_equals_opencv(shape, clip, grid, dtype):
    y = luma(_image(shape, dtype, seed=sum(shape)))
    ours = clahe_luma(y, clip, grid).astype(np.int64)
    theirs = cv2.createCLAHE(clipLimit=clip, tileGridSize=(grid, grid)).apply(y).astype(np.int64)
    diff = np.abs(ours - theirs)
    assert diff.max() <= 1
    assert (diff > 0).mean() < 0.005  # row-blended tables round differently from OpenCV on a few pixels
    assert ours.std() > y.std()  # it did equalise


def test_clahe_luma_counts_past_16_bits_per_bin() -> None:
    # One 1000×600 tile of a nearly flat frame: 75,000 pixels per interleaved counter in one bin, so the 16-bit
    # counters must be folded into the totals before they wrap.
    y = np.full((600, 1000), 3, np.uint8)
    y[100:200, 300:500] = 200
    ours = clahe_luma(y, 2.0, 1).astype(np.int64)
    theirs = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(1, 1)).apply(y).astype(np.int64)
    assert np.abs(ours - theirs).max() <= 1 and ours[0, 0] == theirs[0, 0]


@pytest.mark.parametrize("dtype", DTYPES)
def test_transfer_adds_the_luma_change_to_every_channel_and_clips(dtype):
    top = np.iinfo(dtype).max
    image = np.array([[[10, 20, 30], [top - 5, top - 2, 5]]], dtype)
    old = np.array([[20, 100]], dtype)
    new = np.array([[25, 110]], dtype)
    out = transfer_luma(image, old, new)
    np.testing.assert_array_equal(out, np.array([[[15, 25, 35], [top, top, 15]]], dtype))
    darker = transfer_luma(image, new, old)
    assert darker.tolist() == [[[5, 15, 25], [top - 15, top - 12, 0]]] and darker.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bgr", [False, True])
@pytest.mark.parametrize("shape", [(90, 120), (240, 320)])  # 8-bit tables blended per pixel, then per row
def test_clahe_colour_is_clahe_luma_transferred(dtype, bgr, shape):
    image = _image(shape, dtype, seed=5)
    y = luma(image, bgr=bgr)
    expected = transfer_luma(image, y, clahe_luma(y, 2.0, 4))
    np.testing.assert_array_equal(clahe_colour(image, 2.0, 4, bgr=bgr), expected)
