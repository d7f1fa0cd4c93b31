"""Sensor noise model: transfer functions, the shot/read statistics, identity without noise, seeding, Bayer sites."""

from __future__ import annotations

import numpy as np
import pytest

from llie_core import noise
from llie_core.noise import NoiseRegime


def _codes(levels: int = 256) -> np.ndarray:
    """Every 8-bit code value on each channel: a 3×levels RGB uint8 image with rotated channels."""
    ramp = np.arange(levels, dtype=np.uint8)
    return np.stack([np.stack([np.roll(ramp, 85 * i * c) for c in range(3)], axis=-1) for i in range(3)])


def test_srgb_transfer_round_trip_and_known_values() -> None:
    x = np.linspace(0, 1, 1001)
    assert np.allclose(noise.linear_to_srgb(noise.srgb_to_linear(x)), x, atol=1e-12)
    # 18% grey encodes to about 0.4613; the linear segment ends at 0.04045 ↔ 0.0031308
    assert noise.linear_to_srgb(0.18) == pytest.approx(0.46135, abs=1e-4)
    assert noise.srgb_to_linear(0.04045) == pytest.approx(0.0031308, abs=1e-6)
    assert np.allclose(noise.inverse_smoothstep(noise.smoothstep(x)), x, atol=1e-9)


@pytest.mark.parametrize(("regime", "gain"), [("heavy", 4095 / 400), ("moderate", 4095 / 4000)])
def test_variance_follows_shot_and_read_noise(regime: str, gain: float) -> None:
    """On flat patches, var = mean·g + σ_read² (in ADC codes; g codes per electron) + 1/12 of quantisation."""
    reg = noise.get_regime(regime)
    rng = np.random.default_rng(1)
    read = reg.read_sigma * gain
    for level in (0.05, 0.2, 0.6):
        codes = noise.expose(np.full((300, 300), level), reg, rng).astype(np.float64)
        mean = level * 4095
        assert codes.mean() == pytest.approx(mean, rel=0.01)
        expected = mean * gain + read**2 + 1 / 12
        assert codes.var() == pytest.approx(expected, rel=0.03), (regime, level)


def test_row_noise_adds_row_correlated_variance() -> None:
    reg = NoiseRegime("rows", 1.0, full_well=1000.0, read_sigma=0.0, row_sigma=5.0)
    codes = noise.expose(np.full((400, 400), 0.3), reg, np.random.default_rng(2)).astype(np.float64)
    gain = 4095 / 1000
    # Row means vary by the row noise (plus the shot noise averaged over 400 pixels).
    assert codes.mean(axis=1).var() == pytest.approx((5.0 * gain) ** 2 + 0.3 * 4095 * gain / 400, rel=0.2)
    # Within a row only shot noise (and quantisation) remains.
    assert codes.var(axis=1).mean() == pytest.approx(0.3 * 4095 * gain + 1 / 12, rel=0.05)


def test_no_noise_and_ratio_one_is_identity_up_to_quantisation() -> None:
    image = _codes()
    flat = NoiseRegime("flat", ratio=1.0)
    out = noise.darken(image, flat, np.random.default_rng(0))
    assert np.abs(out.astype(int) - image).max() <= 1  # 12-bit ADC: off by one code near black
    exact = noise.darken(image, NoiseRegime("flat16", ratio=1.0, bit_depth=16), np.random.default_rng(0))
    assert np.array_equal(exact, image)


def test_ratio_darkens_in_linear_light() -> None:
    grey = np.full((4, 4, 3), 188, np.uint8)  # sRGB 188 ≈ 50% linear
    dark = noise.darken(grey, noise.get_regime("none"), np.random.default_rng(0))
    expected = noise.linear_to_srgb(noise.srgb_to_linear(188 / 255) / 16) * 255
    assert np.all(np.abs(dark.astype(float) - expected) <= 0.6)


def test_darkening_is_deterministic_per_key_and_seed() -> None:
    image = np.random.default_rng(3).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    heavy = noise.get_regime("heavy")
    a = noise.darken(image, heavy, noise.keyed_rng(7, "img1.jpg", "heavy"))
    b = noise.darken(image, heavy, noise.keyed_rng(7, "img1.jpg", "heavy"))
    c = noise.darken(image, heavy, noise.keyed_rng(8, "img1.jpg", "heavy"))
    d = noise.darken(image, heavy, noise.keyed_rng(7, "img2.jpg", "heavy"))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c) and not np.array_equal(a, d)


def test_unprocess_process_round_trip_with_random_camera() -> None:
    rng = np.random.default_rng(4)
    camera = noise.random_processing(rng)
    assert np.allclose(camera.cam_to_rgb.sum(axis=1), 1.0)
    red, green, blue = camera.gains
    assert 1.9 <= red / green <= 2.4 and 1.5 <= blue / green <= 1.9 and camera.tone_curve
    # Unsaturated colours survive unprocessing and processing.
    rgb = rng.uniform(0.3, 0.6, (16, 16, 3))
    assert np.allclose(noise.process(noise.unprocess(rgb, camera), camera), rgb, atol=1e-9)
    # White balance: grey is far from grey in camera space (red and blue are divided by their gains).
    cam = noise.unprocess(np.full((1, 1, 3), 0.5), camera)[0, 0]
    assert cam[0] < cam[1] and cam[2] < cam[1]


def test_mosaic_keeps_the_right_channel_per_site() -> None:
    image = np.zeros((4, 6, 3), np.uint16)
    image[..., 0], image[..., 1], image[..., 2] = 1, 2, 3
    expected = {"RGGB": [[1, 2], [2, 3]], "BGGR": [[3, 2], [2, 1]], "GRBG": [[2, 1], [3, 2]], "GBRG": [[2, 3], [1, 2]]}
    for pattern, tile in expected.items():
        m = noise.mosaic(image, pattern)
        assert m.shape == (4, 6)
        assert np.array_equal(m, np.tile(tile, (2, 3))), pattern
        # OpenCV's demosaicing of a flat colour gives that colour back (its pattern naming is mapped right).
        flat = noise.demosaic((m * 10000).astype(np.uint16), pattern)
        assert np.array_equal(flat[1:-1, 1:-1], np.broadcast_to([10000, 20000, 30000], (2, 4, 3))), pattern
    with pytest.raises(ValueError, match="Bayer pattern"):
        noise.mosaic(image, "RGBG")


def test_raw_mosaic_levels_statistics_and_processing() -> None:
    image = np.full((64, 64, 3), 200, np.uint8)
    heavy = noise.get_regime("heavy")
    raw = noise.to_raw(image, heavy, np.random.default_rng(5), pattern="RGGB")
    assert raw.data.shape == (64, 64) and raw.data.dtype == np.uint16
    assert (raw.black_level, raw.white_level, raw.ratio) == (256, 4095, 16.0)
    signal = noise.srgb_to_linear(200 / 255) / 16
    assert raw.data.mean() == pytest.approx(256 + signal * (4095 - 256), rel=0.02)
    gain = (4095 - 256) / 400
    var = signal * 400 * gain**2 + (2 * gain) ** 2
    assert raw.data.astype(float).var() == pytest.approx(var, rel=0.1)
    # The noiseless mosaic, gained back by the ratio, processes to the scene.
    clean = noise.to_raw(image, NoiseRegime("q", 16.0, bit_depth=16), np.random.default_rng(0))
    assert np.abs(noise.raw_to_rgb(clean, gain=16.0).astype(int) - 200).max() <= 1
    # darken(..., bayer=...) is the same RAW path processed without gain.
    a = noise.darken(image, heavy, np.random.default_rng(5), bayer="RGGB")
    assert np.array_equal(a, noise.raw_to_rgb(raw))


def test_regimes_and_parsing() -> None:
    assert noise.get_regime("heavy") == NoiseRegime("heavy", 16.0, full_well=400.0, read_sigma=2.0)
    assert noise.parse_regime("moderate") is noise.REGIMES["moderate"]
    custom = noise.parse_regime("dim=k:8,fw:1000,read:3,row:0.5,bits:10")
    assert custom == NoiseRegime("dim", 8.0, 1000.0, 3.0, 0.5, 10)
    assert noise.parse_regime("rowy=heavy,row:1") == NoiseRegime("rowy", 16.0, 400.0, 2.0, 1.0)
    with pytest.raises(ValueError, match="unknown noise regime"):
        noise.get_regime("extreme")
    with pytest.raises(ValueError, match="unknown key"):
        noise.parse_regime("x=gain:2")
    with pytest.raises(ValueError, match="needs a full_well"):
        NoiseRegime("bad", read_sigma=1.0)
    with pytest.raises(ValueError, match="RGB uint8"):
        noise.darken(np.zeros((4, 4), np.uint8), noise.get_regime("none"), np.random.default_rng(0))
