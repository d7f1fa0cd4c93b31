"""Classical enhancement methods: each does what it is for, on constructed and (when present) real images."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from llie_core.classical import CLASSICAL_METHODS, DENOISERS, default_options
from llie_core.registry import list_specs, shared_dir

METHODS = sorted(CLASSICAL_METHODS)
DTYPES = [np.uint8, np.uint16]


def top(dtype) -> int:
    return int(np.iinfo(dtype).max)


def quantise(unit: np.ndarray, dtype) -> np.ndarray:
    """Float image in [0, 1] -> integer image of dtype."""
    return np.rint(np.clip(unit, 0, 1) * top(dtype)).astype(dtype)


def smooth_field(shape: tuple[int, int], seed: int, blur: float = 3.0) -> np.ndarray:
    """Random smooth H×W float32 field spanning exactly [0, 1]."""
    noise = np.random.default_rng(seed).random(shape).astype(np.float32)
    field = cv2.GaussianBlur(noise, (0, 0), blur)
    return (field - field.min()) / (field.max() - field.min())


def dark_scene(dtype, low: float = 0.02, high: float = 0.2, shape=(48, 64), seed: int = 0) -> np.ndarray:
    """Dark, low-contrast H×W×3 RGB scene with texture and some colour (values in [low, high] of full scale)."""
    channels = [smooth_field(shape, seed + c) for c in range(3)]
    shared = smooth_field(shape, seed + 10)
    unit = np.stack([0.6 * shared + 0.4 * ch for ch in channels], axis=2)
    return quantise(low + (high - low) * unit, dtype)


def grey(unit: np.ndarray, dtype) -> np.ndarray:
    """H×W float field in [0, 1] -> H×W×3 grey image (R = G = B)."""
    return np.repeat(quantise(unit, dtype)[..., None], 3, axis=2)


def luma(image: np.ndarray) -> np.ndarray:
    """Rec.601 luma as a fraction of full scale, H×W float64."""
    return (image.astype(np.float64) @ np.array([0.299, 0.587, 0.114])) / top(image.dtype)


def hue_degrees(image: np.ndarray) -> np.ndarray:
    """HSV hue in degrees of an RGB image, H×W."""
    unit = image.astype(np.float32) / top(image.dtype)
    return cv2.cvtColor(unit, cv2.COLOR_RGB2HSV)[..., 0]


def local_contrast(image: np.ndarray) -> float:
    """Mean standard deviation of luma in 8×8 blocks."""
    y = luma(image)
    h, w = (s - s % 8 for s in y.shape)
    blocks = y[:h, :w].reshape(h // 8, 8, w // 8, 8)
    return float(blocks.std(axis=(1, 3)).mean())


def distance_from_uniform(values: np.ndarray) -> float:
    """Kolmogorov-Smirnov distance between the empirical CDF of values in [0, 1] and the uniform CDF."""
    ordered = np.sort(values.ravel())
    n = ordered.size
    above = np.arange(1, n + 1) / n - ordered
    below = ordered - np.arange(n) / n
    return float(max(above.max(), below.max()))


# --- every method -----------------------------------------------------------------------------------


def test_every_method_is_registered_as_classical():
    specs = {spec.name: spec for spec in list_specs("classical")}
    assert set(specs) == set(CLASSICAL_METHODS)
    image = dark_scene(np.uint8)
    for name, spec in specs.items():
        assert spec.kind == "classical" and spec.description
        assert spec.options == default_options(CLASSICAL_METHODS[name])
        assert CLASSICAL_METHODS[name](image, **spec.options).shape == image.shape


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", METHODS)
def test_keeps_shape_and_dtype_and_input(method, dtype):
    image = dark_scene(dtype, shape=(37, 53))  # odd sizes: tiles, pyramids and shrinking must cope
    before = image.copy()
    out = CLASSICAL_METHODS[method](image)
    assert out.shape == image.shape and out.dtype == image.dtype
    np.testing.assert_array_equal(image, before)


@pytest.mark.parametrize("method", METHODS)
def test_accepts_non_contiguous_views(method):
    image = dark_scene(np.uint8)
    view = image[:, ::-1]  # what a BGR/flip view of a camera buffer looks like
    np.testing.assert_array_equal(CLASSICAL_METHODS[method](view), CLASSICAL_METHODS[method](view.copy()))


@pytest.mark.parametrize("bad_dtype", [np.float32, np.float64, np.int32])
@pytest.mark.parametrize("method", METHODS)
def test_rejects_other_dtypes(method, bad_dtype):
    image = np.full((8, 8, 3), 0.1, dtype=bad_dtype)
    with pytest.raises(TypeError, match=np.dtype(bad_dtype).name):
        CLASSICAL_METHODS[method](image)


@pytest.mark.parametrize("method", METHODS)
def test_rejects_empty_and_non_rgb(method):
    with pytest.raises(ValueError, match="empty"):
        CLASSICAL_METHODS[method](np.zeros((0, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="H×W×3"):
        CLASSICAL_METHODS[method](np.zeros((8, 8), np.uint8))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", METHODS)
def test_grey_in_grey_out(method, dtype):
    image = grey(0.02 + 0.3 * smooth_field((40, 56), seed=3), dtype)
    out = CLASSICAL_METHODS[method](image)
    np.testing.assert_array_equal(out[..., 0], out[..., 1])
    np.testing.assert_array_equal(out[..., 0], out[..., 2])


def test_importing_does_not_import_torch():
    code = "import sys, llie_core.classical; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- histogram equalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_he_flattens_the_luma_histogram(dtype):
    image = grey(0.04 + 0.12 * smooth_field((64, 96), seed=1), dtype)
    before = distance_from_uniform(luma(image))
    after = distance_from_uniform(luma(CLASSICAL_METHODS["he"](image)))
    assert before > 0.8
    # uint8 has ~32 levels here and each equalised level still holds a few % of the pixels; a plain
    # min-max stretch of the same image would score ~0.23.
    assert after < 0.1


@pytest.mark.parametrize("method", ["he", "clahe"])
def test_histogram_methods_keep_hue(method):
    # A dark orange gradient: equalising R, G, B separately would turn it grey (every channel becomes
    # the same uniform ramp); equalising luma only must keep the hue.
    ramp = np.tile(np.linspace(0.1, 0.3, 96, dtype=np.float32), (48, 1))
    image = quantise(np.stack([ramp, 0.6 * ramp, 0.3 * ramp], axis=2), np.uint8)
    out = CLASSICAL_METHODS[method](image)
    unclipped = (out.max(axis=2) < 255) & (out.min(axis=2) > 0)  # hue is only kept until a channel clips
    assert unclipped.mean() > 0.5
    difference = np.abs(hue_degrees(out) - hue_degrees(image))[unclipped]
    assert np.median(difference) < 2.0
    assert difference.max() < 6.0
    assert luma(out).mean() > luma(image).mean()


@pytest.mark.parametrize("dtype", DTYPES)
def test_clahe_raises_local_contrast(dtype):
    image = dark_scene(dtype, low=0.05, high=0.12, shape=(64, 96))
    assert local_contrast(CLASSICAL_METHODS["clahe"](image)) > 2 * local_contrast(image)


@pytest.mark.parametrize("dtype", DTYPES)
def test_clahe_keeps_a_constant_image_constant(dtype):
    image = np.full((64, 96, 3), round(0.1 * top(dtype)), dtype)
    out = CLASSICAL_METHODS["clahe"](image)
    assert int(out.max()) - int(out.min()) <= 0.01 * top(dtype)


# --- gamma --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_gamma_matches_the_power_law_on_every_code_value(dtype):
    codes = np.arange(top(dtype) + 1).reshape(-1, 256)  # every code value once, as an image
    image = np.repeat(codes[..., None], 3, axis=2).astype(dtype)
    out = CLASSICAL_METHODS["gamma"](image, gamma=0.5)
    expected = np.rint(top(dtype) * (codes / top(dtype)) ** 0.5)
    np.testing.assert_array_equal(out[..., 1], expected)
    ordered = out[..., 0].ravel()
    assert ordered[0] == 0 and ordered[-1] == top(dtype)
    assert np.all(np.diff(ordered.astype(np.int64)) >= 0)
    assert np.all(ordered >= codes.ravel()) and ordered[len(ordered) // 4] > codes.ravel()[len(ordered) // 4]


def test_gamma_rejects_non_positive_gamma():
    with pytest.raises(ValueError, match="gamma"):
        CLASSICAL_METHODS["gamma"](dark_scene(np.uint8), gamma=0.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adaptive_gamma_brightens_dark_more_than_mid_grey(dtype):
    dark = dark_scene(dtype, low=0.03, high=0.15)
    mid = dark_scene(dtype, low=0.3, high=0.42)

    def gain(image):
        return luma(CLASSICAL_METHODS["adaptive_gamma"](image)).mean() - luma(image).mean()

    assert gain(dark) > 0.25
    assert gain(dark) > 2 * gain(mid) > 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_adaptive_gamma_leaves_a_well_exposed_image_in_place(dtype):
    image = grey(np.tile(np.linspace(0.0, 1.0, 128, dtype=np.float32), (32, 1)), dtype)  # mean 0.5
    out = CLASSICAL_METHODS["adaptive_gamma"](image)
    assert abs(luma(out).mean() - luma(image).mean()) < 0.01


# --- Retinex --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", ["ssr", "msr"])
def test_retinex_uses_the_full_range_and_brightens(method, dtype):
    image = dark_scene(dtype, low=0.02, high=0.15)
    out = CLASSICAL_METHODS[method](image)
    assert out.min() == 0 and out.max() == top(dtype)
    assert luma(out).mean() > 2 * luma(image).mean()


@pytest.mark.parametrize("method", ["ssr", "msr"])
def test_retinex_gives_the_same_picture_for_uint8_and_uint16(method):
    image8 = dark_scene(np.uint8)
    out8 = CLASSICAL_METHODS[method](image8).astype(np.float64) / 255
    out16 = CLASSICAL_METHODS[method](image8.astype(np.uint16) * 257).astype(np.float64) / 65535
    assert np.abs(out8 - out16).mean() < 0.01


# --- LIME -----------------------------------------------------------------------------------------------


def assert_order_kept(values: np.ndarray, enhanced: np.ndarray) -> None:
    """No pixel darker than another in values may come out brighter in enhanced (both 1-D)."""
    levels, index = np.unique(values, return_inverse=True)
    lowest = np.full(levels.size, np.inf)
    highest = np.full(levels.size, -np.inf)
    np.minimum.at(lowest, index, enhanced)
    np.maximum.at(highest, index, enhanced)
    # Equal inputs may map to slightly different outputs (the method is local); a darker level must not
    # map above any brighter one.
    assert np.all(np.maximum.accumulate(highest)[:-1] <= lowest[1:])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("width", [200, 700])  # solved at full size; shrunk to max_side and upsampled
def test_lime_brightens_a_dark_ramp_without_reordering_it(dtype, width):
    image = grey(np.tile(np.linspace(0.0, 0.25, width, dtype=np.float32), (24, 1)), dtype)
    out = CLASSICAL_METHODS["lime"](image)
    for row in (0, 12, 23):
        assert_order_kept(image[row, :, 0].astype(np.float64), out[row, :, 0].astype(np.float64))
    if dtype == np.uint16:  # every input value distinct, so the output must not decrease anywhere
        assert np.all(np.diff(image[..., 0].astype(np.int64), axis=1) > 0)
        assert np.all(np.diff(out[..., 0].astype(np.int64), axis=1) >= 0)
    assert luma(out).mean() > 1.5 * luma(image).mean()


@pytest.mark.parametrize("size", [40, 64])  # a patch in a darker surround; the whole frame
def test_lime_keeps_the_hue_of_a_coloured_patch(size):
    image = np.full((64, 64, 3), 30, np.uint8)
    start = (64 - size) // 2
    image[start : start + size, start : start + size] = (60, 30, 15)
    out = CLASSICAL_METHODS["lime"](image)
    inside = out[start + 2 : start + size - 2, start + 2 : start + size - 2]
    assert inside.max() < 255  # dividing by one illumination keeps channel ratios exactly until one clips
    assert luma(inside).mean() > 1.5 * 45 / 255
    difference = np.abs(hue_degrees(inside) - hue_degrees(image[start : start + 1, start : start + 1]))
    assert difference.max() < 2.0


# --- exposure correction -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_exposure_correction_brings_a_dark_mean_to_target(dtype):
    image = dark_scene(dtype, low=0.02, high=0.2)
    out = CLASSICAL_METHODS["exposure_correction"](image, target=0.45)
    assert abs(luma(out).mean() - 0.45) < 0.01 < abs(luma(image).mean() - 0.45)
    assert np.all(out >= image)  # a gain >= 1 on a monotone curve never darkens a pixel


@pytest.mark.parametrize("dtype", DTYPES)
def test_exposure_correction_barely_touches_a_well_exposed_image(dtype):
    image = dark_scene(dtype, low=0.25, high=0.75)
    out = CLASSICAL_METHODS["exposure_correction"](image)
    assert abs(luma(image).mean() - 0.5) < 0.05
    assert luma(image).mean() <= luma(out).mean() <= 0.5 + 0.005  # not darkened, at most lifted to target


def test_exposure_correction_can_pull_an_over_exposed_image_down():
    image = dark_scene(np.uint8, low=0.6, high=0.95)
    out = CLASSICAL_METHODS["exposure_correction"](image, target=0.5, min_gain=0.1)
    assert abs(luma(out).mean() - 0.5) < 0.01


# --- real data -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dicm_image() -> np.ndarray:
    folder = shared_dir() / "data" / "lowlight" / "dicm"
    paths = sorted(folder.glob("*.jpg")) + sorted(folder.glob("*.png"))
    if not paths:
        pytest.skip(f"no DICM images in {folder}")
    bgr = cv2.imread(str(paths[0]), cv2.IMREAD_COLOR)
    assert bgr is not None, f"could not read {paths[0]}"
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


@pytest.mark.parametrize("method", METHODS)
def test_real_low_light_image_gets_brighter(method, dicm_image):
    out = CLASSICAL_METHODS[method](dicm_image)
    assert out.shape == dicm_image.shape
    if method in DENOISERS:  # filters only: brightness kept
        assert out.mean() == pytest.approx(dicm_image.mean(), rel=0.01)
    else:
        assert out.mean() > dicm_image.mean()
