"""The denoising classical methods: they remove noise, keep edges (bilateral) and brighten nothing."""

from __future__ import annotations

import numpy as np
import pytest

from llie_core import create_enhancer
from llie_core.classical import bilateral, gaussian_blur


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
