"""The denoising classical methods: they remove noise, keep edges (bilateral) and brighten nothing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from llie_core import create_enhancer
from llie_core.classical import adaptive_denoise, bilateral, gaussian_blur
from llie_core.classical.denoise import noise_sigma


def _noisy_step(dtype=np.uint8, sigma: float = 6.0) -> tuple[np.ndarray, np.ndarray]:
    """A 64×64 grey step 60 → 140 (8-bit units) and the same with Gaussian noise of ``sigma``."""
    top = np.iinfo(dtype).max / 255.0
    clean = np.full((64, 64, 3), 60.0)
    clean[:, 32:] = 140.0
    noisy = clean + np.random.default_rng(0).normal(0, sigma, clean.shape)
    q = lambda x: np.clip(np.rint(x * top), 0, np.iinfo(dtype).max).astype(dtype)  # noqa: E731
    return q(clean), q(noisy)


def test_gaussian_blur_reduces_noise_by_the_kernel_energy() -> None:
    _, noisy = _noisy_step()
    out = gaussian_blur(noisy).astype(float)
    # Separable 5-tap kernel with sigma 1.1: white noise std falls by sqrt(sum(w²)) per axis, ≈ 0.26 overall.
    g = np.exp(-((np.arange(5) - 2) ** 2) / (2 * 1.1**2))
    g /= g.sum()
    flat = out[8:-8, 4:24, 1]
    assert flat.std() == pytest.approx(6.0 * (g**2).sum(), rel=0.15)
    assert flat.mean() == pytest.approx(60.0, abs=0.5)  # no brightening


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_bilateral_keeps_the_edge_the_blur_smears(dtype) -> None:
    clean, noisy = _noisy_step(dtype)
    scale = np.iinfo(dtype).max / 255.0
    b = bilateral(noisy).astype(float) / scale
    g = gaussian_blur(noisy).astype(float) / scale
    edge = (slice(None), slice(30, 34), 1)
    err_b = np.abs(b[edge] - clean[edge] / scale).mean()
    err_g = np.abs(g[edge] - clean[edge] / scale).mean()
    assert err_b < 0.5 * err_g
    assert b[8:-8, 4:24, 1].std() < 0.6 * 6.0  # and still removes noise on flat parts


def test_denoisers_run_through_the_engine_on_bgr_frames() -> None:
    _, noisy = _noisy_step()
    frame = noisy.copy()
    frame[..., 0] += 10  # a colour, so a channel swap would show
    for name, fn in (("gaussian_blur", gaussian_blur), ("bilateral", bilateral)):
        enhancer = create_enhancer(name)
        assert np.array_equal(enhancer.enhance(frame), fn(frame))
    with pytest.raises(ValueError, match="odd"):
        gaussian_blur(noisy, ksize=4)


def _smooth(shape=(240, 320), seed=0) -> np.ndarray:
    """A smooth RGB field in [40, 200] (8-bit units), float."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(40, 200, (6, 8, 3))
    return cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


@pytest.mark.parametrize("sigma", [2.0, 6.0])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_noise_sigma_measures_added_noise(sigma, dtype) -> None:
    scale = np.iinfo(dtype).max / 255.0
    base = _smooth()
    # The same noise on all channels, so luma carries exactly sigma.
    noisy = base + np.random.default_rng(1).normal(0, sigma, base.shape[:2])[..., None]
    image = np.clip(np.rint(noisy * scale), 0, np.iinfo(dtype).max).astype(dtype)
    assert noise_sigma(image) == pytest.approx(sigma, rel=0.1)
    assert noise_sigma(np.rint(base * scale).astype(dtype)) < 0.6  # quantisation and curvature only


def test_adaptive_denoise_follows_the_noise_level() -> None:
    base = _smooth()
    clean = np.rint(base * 0.3).astype(np.uint8)  # a dark, smooth scene
    noisy = np.clip(np.rint(base * 0.3 + np.random.default_rng(2).normal(0, 8, base.shape)), 0, 255).astype(np.uint8)
    # Noisy frame: noise removed, no brightening (the gamma fades out above σ 4).
    out = adaptive_denoise(noisy).astype(float)
    assert np.abs(out - clean).std() < 0.4 * np.abs(noisy.astype(float) - clean).std()
    assert out.mean() == pytest.approx(clean.mean(), abs=1.5)
    # Clean frame: the full gamma 0.8 brightens it; the smooth scene is otherwise kept.
    bright = adaptive_denoise(clean).astype(float)
    expected = 255 * (clean / 255.0) ** 0.8
    assert bright.mean() == pytest.approx(expected.mean(), abs=0.5)
    assert np.median(np.abs(bright - expected)) <= 1.0  # chroma smoothing moves strong colour gradients a little
    assert np.array_equal(adaptive_denoise(clean, gamma=1.0, strength=0.0), clean)
    # BGR path through the engine equals the RGB function on the swapped frame.
    bgr = np.ascontiguousarray(noisy[:, :, ::-1])
    assert np.array_equal(create_enhancer("adaptive_denoise").enhance(bgr), adaptive_denoise(noisy)[:, :, ::-1])
    with pytest.raises(ValueError, match="gamma"):
        adaptive_denoise(noisy, gamma=1.5)
