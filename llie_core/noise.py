"""Sensor noise model: the frame a camera would give of a clean sRGB scene with k times less light.

The pipeline follows Brooks et al. 2019, "Unprocessing images for learned raw denoising":

    sRGB uint8 → [inverse tone curve] → inverse sRGB transfer → [inverse colour correction]
    → [inverse white balance and exposure gains]  = linear camera RGB (fraction of full scale)
    → ÷ ratio (less light) → [Bayer mosaic] → electrons (× full well) → Poisson shot noise
    → + Gaussian read noise (+ row noise) → ADC (bit depth, black level)   = RAW
    → re-processing: black level, gains, [demosaic], colour correction, sRGB transfer, [tone curve] → sRGB uint8

Steps in brackets are optional: ``processing=None`` is the plain "linear light ÷ k, noise, sRGB"
model; ``random_processing(rng)`` draws a camera as Brooks et al. do (gains from their distributions;
the colour matrix is a random saturating matrix with rows summing to one rather than their mix of
four published camera matrices). Re-processing uses the same parameters, so without noise and with
ratio 1 the round trip is the identity up to quantisation (and clipping of colours the camera
cannot hold). Electrons are counted at full scale (``full_well``): a pixel at fraction x of full
scale collects x·full_well electrons on average, so its variance in fractions of full scale is
x/full_well + (read_sigma/full_well)².

Everything is seeded through numpy Generators; ``keyed_rng(seed, *keys)`` gives each (image, regime)
its own stream, so a frame's noise does not depend on which other frames or models are evaluated.
Images are RGB; arrays of shape H×W×3 unless stated.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from llie_core.bayer import BAYER_PATTERNS, RawFrame, check_pattern, mosaic

__all__ = [
    "BAYER_PATTERNS",
    "REGIMES",
    "NoiseRegime",
    "Processing",
    "RawMosaic",
    "darken",
    "demosaic",
    "expose",
    "get_regime",
    "inverse_smoothstep",
    "keyed_rng",
    "linear_to_srgb",
    "mosaic",
    "parse_regime",
    "process",
    "random_processing",
    "raw_to_rgb",
    "smoothstep",
    "srgb_to_linear",
    "to_raw",
    "unprocess",
]

# OpenCV names a Bayer layout by the second row's second and third pixels: RGGB is its "BG".
_CV_DEMOSAIC = {
    "RGGB": cv2.COLOR_BayerBG2RGB,
    "BGGR": cv2.COLOR_BayerRG2RGB,
    "GRBG": cv2.COLOR_BayerGB2RGB,
    "GBRG": cv2.COLOR_BayerGR2RGB,
}


@dataclass(frozen=True)
class NoiseRegime:
    """How much light is lost and what the sensor adds.

    ratio: light divided by this (exposure ÷ k). full_well: electrons at full scale (None: no shot
    noise and no electron scale, so read and row noise must be 0). read_sigma, row_sigma: Gaussian
    read noise per pixel and per row, in electrons. bit_depth: the ADC's.
    """

    name: str
    ratio: float = 16.0
    full_well: float | None = None
    read_sigma: float = 0.0
    row_sigma: float = 0.0
    bit_depth: int = 12

    def __post_init__(self) -> None:
        if not self.ratio >= 1:
            raise ValueError(f"noise regime {self.name!r}: ratio must be >= 1, got {self.ratio}")
        if self.full_well is not None and not self.full_well > 0:
            raise ValueError(f"noise regime {self.name!r}: full_well must be > 0 electrons, got {self.full_well}")
        if self.read_sigma < 0 or self.row_sigma < 0:
            raise ValueError(f"noise regime {self.name!r}: noise sigmas must be >= 0")
        if self.full_well is None and (self.read_sigma or self.row_sigma):
            raise ValueError(f"noise regime {self.name!r}: read/row noise in electrons needs a full_well")
        if not 8 <= self.bit_depth <= 16:
            raise ValueError(f"noise regime {self.name!r}: bit_depth must be in 8..16, got {self.bit_depth}")

    def describe(self) -> str:
        """One line for tables: ratio, electrons at full scale, read/row noise, bits."""
        if self.full_well is None:
            return f"÷{self.ratio:g}, no noise (quantisation only), {self.bit_depth}-bit"
        row = f", row σ {self.row_sigma:g} e⁻" if self.row_sigma else ""
        return (
            f"÷{self.ratio:g}, {self.full_well:,.0f} e⁻ at full scale, read σ {self.read_sigma:g} e⁻{row}, "
            f"{self.bit_depth}-bit"
        )


# The regimes of issue 12's table: light ÷16, then no noise, a good sensor, a small noisy one.
REGIMES = {
    "none": NoiseRegime("none", 16.0),
    "moderate": NoiseRegime("moderate", 16.0, full_well=4000.0, read_sigma=1.0),
    "heavy": NoiseRegime("heavy", 16.0, full_well=400.0, read_sigma=2.0),
}

_REGIME_KEYS = {"k": "ratio", "ratio": "ratio", "fw": "full_well", "full_well": "full_well", "read": "read_sigma"}
_REGIME_KEYS |= {"read_sigma": "read_sigma", "row": "row_sigma", "row_sigma": "row_sigma", "bits": "bit_depth"}


def get_regime(name: str) -> NoiseRegime:
    """A named regime (``none``, ``moderate``, ``heavy``); an unknown name lists the valid ones."""
    try:
        return REGIMES[name]
    except KeyError:
        raise ValueError(f"unknown noise regime {name!r}; valid: {', '.join(REGIMES)}") from None


def parse_regime(text: str) -> NoiseRegime:
    """``heavy`` or ``NAME=k:16,fw:400,read:2[,row:0.5][,bits:12]`` (also ``NAME=heavy,row:1``: a named base)."""
    if "=" not in text:
        return get_regime(text)
    name, _, spec = text.partition("=")
    regime = NoiseRegime(name or "custom")
    for item in filter(None, spec.split(",")):
        key, sep, value = item.partition(":")
        if not sep:
            regime = replace(get_regime(key), name=regime.name)
            continue
        if key not in _REGIME_KEYS:
            raise ValueError(f"noise regime {text!r}: unknown key {key!r}; valid: {', '.join(_REGIME_KEYS)}")
        try:
            number = int(value) if _REGIME_KEYS[key] == "bit_depth" else float(value)
        except ValueError:
            raise ValueError(f"noise regime {text!r}: {key} must be a number, got {value!r}") from None
        regime = replace(regime, **{_REGIME_KEYS[key]: number})
    return regime


def keyed_rng(seed: int, *keys: str) -> np.random.Generator:
    """A Generator determined by a seed and string keys (e.g. image name, regime), independent of call order."""
    words = [int.from_bytes(hashlib.sha256(k.encode()).digest()[:8], "little") for k in keys]
    return np.random.default_rng([int(seed), *words])


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """Inverse sRGB transfer (IEC 61966-2-1): encoded values in [0, 1] (any shape) → linear light."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """sRGB transfer: linear light in [0, 1] (any shape; clipped) → encoded values in [0, 1]."""
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055)


def smoothstep(x: np.ndarray) -> np.ndarray:
    """The global tone curve of Brooks et al.: 3x² − 2x³ on [0, 1] (any shape)."""
    x = np.clip(x, 0.0, 1.0)
    return 3 * x**2 - 2 * x**3


def inverse_smoothstep(y: np.ndarray) -> np.ndarray:
    """Inverse of ``smoothstep`` on [0, 1]: 1/2 − sin(asin(1 − 2y)/3) (any shape)."""
    y = np.clip(y, 0.0, 1.0)
    return 0.5 - np.sin(np.arcsin(1.0 - 2.0 * y) / 3.0)


@dataclass(frozen=True)
class Processing:
    """A camera's processing: white balance and exposure gains (R, G, B), a colour matrix, a tone curve.

    ``cam_to_rgb`` (3×3) maps white-balanced camera RGB to linear sRGB; its rows sum to 1 so grey stays grey.
    """

    gains: tuple[float, float, float] = (1.0, 1.0, 1.0)
    cam_to_rgb: np.ndarray = field(default_factory=lambda: np.eye(3))
    tone_curve: bool = False

    def as_dict(self) -> dict:
        """JSON-friendly parameters."""
        return {
            "gains": [float(g) for g in self.gains],
            "cam_to_rgb": np.asarray(self.cam_to_rgb).round(6).tolist(),
            "tone_curve": self.tone_curve,
        }


def random_processing(rng: np.random.Generator) -> Processing:
    """A random camera as in Brooks et al.: exposure gain 1/N(0.8, 0.1), red U(1.9, 2.4), blue U(1.5, 1.9).

    The colour matrix is I + s·(I − 1/3) with saturation s ~ U(0.3, 0.8) plus U(−0.1, 0.1) off-diagonal
    jitter, rows renormalised to sum 1: the diagonal-dominant, negative off-diagonal form of real cameras.
    """
    exposure = 1.0 / max(rng.normal(0.8, 0.1), 0.5)
    red, blue = rng.uniform(1.9, 2.4), rng.uniform(1.5, 1.9)
    s = rng.uniform(0.3, 0.8)
    matrix = (1 + s) * np.eye(3) - s / 3 * np.ones((3, 3))
    matrix += rng.uniform(-0.1, 0.1, (3, 3)) * (1 - np.eye(3))
    matrix /= matrix.sum(axis=1, keepdims=True)
    return Processing((red * exposure, exposure, blue * exposure), matrix, tone_curve=True)


def unprocess(rgb: np.ndarray, processing: Processing | None = None) -> np.ndarray:
    """sRGB in [0, 1] (H×W×3) → linear camera RGB in [0, 1]: inverse tone curve, transfer, colour matrix, gains."""
    x = np.asarray(rgb, dtype=np.float64)
    if processing is None:
        return srgb_to_linear(x)
    if processing.tone_curve:
        x = inverse_smoothstep(x)
    x = srgb_to_linear(x)
    x = x @ np.linalg.inv(processing.cam_to_rgb).T
    return np.clip(x / np.asarray(processing.gains), 0.0, 1.0)


def process(camera: np.ndarray, processing: Processing | None = None) -> np.ndarray:
    """Linear camera RGB (H×W×3, fraction of full scale) → sRGB in [0, 1]: gains, colour matrix, transfer, tone."""
    x = np.asarray(camera, dtype=np.float64)
    if processing is None:
        return linear_to_srgb(x)
    x = np.clip(x * np.asarray(processing.gains), 0.0, 1.0) @ np.asarray(processing.cam_to_rgb).T
    x = linear_to_srgb(x)
    return smoothstep(x) if processing.tone_curve else x


def expose(
    signal: np.ndarray,
    regime: NoiseRegime,
    rng: np.random.Generator,
    black_level: int = 0,
    white_level: int | None = None,
) -> np.ndarray:
    """Light reaching the sensor (any shape, fraction of full scale, already ÷ ratio) → noisy ADC codes (uint16).

    Electrons e ~ Poisson(signal·full_well) + N(0, read_sigma²) + one N(0, row_sigma²) per row (axis 0);
    code = round(black_level + e·(white_level − black_level)/full_well), clipped to the ADC's range.
    ``white_level`` defaults to 2^bit_depth − 1.
    """
    top = (1 << regime.bit_depth) - 1
    white = top if white_level is None else int(white_level)
    if not 0 <= black_level < white <= top:
        raise ValueError(f"need 0 <= black_level < white_level <= {top}, got {black_level}, {white}")
    x = np.clip(np.asarray(signal, dtype=np.float64), 0.0, None)
    if regime.full_well is None:
        codes = x * (white - black_level)
    else:
        electrons = rng.poisson(x * regime.full_well).astype(np.float64)
        if regime.read_sigma:
            electrons += rng.normal(0.0, regime.read_sigma, x.shape)
        if regime.row_sigma:
            rows = rng.normal(0.0, regime.row_sigma, x.shape[0])
            electrons += rows.reshape((-1,) + (1,) * (x.ndim - 1))
        codes = electrons * ((white - black_level) / regime.full_well)
    return np.clip(np.rint(codes + black_level), 0, top).astype(np.uint16)


def darken(
    rgb: np.ndarray,
    regime: NoiseRegime,
    rng: np.random.Generator,
    processing: Processing | None = None,
    bayer: str | None = None,
) -> np.ndarray:
    """The dark, noisy H×W×3 RGB uint8 frame a camera gives of a clean RGB uint8 scene.

    With ``bayer`` (e.g. "RGGB") the noise is applied on the mosaic and the frame demosaiced
    (``to_raw`` then ``raw_to_rgb``); otherwise each channel of each pixel is sensed on its own.
    """
    _check_rgb8(rgb)
    if bayer is not None:
        return raw_to_rgb(to_raw(rgb, regime, rng, processing, bayer))
    camera = unprocess(rgb / 255.0, processing)
    codes = expose(camera / regime.ratio, regime, rng)
    return _to_uint8(process(codes / float((1 << regime.bit_depth) - 1), processing))


@dataclass(frozen=True)
class RawMosaic(RawFrame):
    """A synthetic RAW Bayer frame (``bayer.RawFrame``: H×W uint16 ADC codes, pattern, levels) and how it was made.

    ``ratio`` is the light reduction it was made with (a reference brightness needs gain = ratio);
    ``processing`` the camera parameters used to unprocess the scene (None: plain sRGB transfer).
    """

    ratio: float
    processing: Processing | None
    regime: NoiseRegime


def demosaic(raw: np.ndarray, pattern: str = "RGGB") -> np.ndarray:
    """H×W uint8/uint16 Bayer codes → H×W×3 RGB of the same dtype (OpenCV's bilinear demosaicing)."""
    check_pattern(pattern)
    if raw.ndim != 2 or raw.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"demosaic needs an H×W uint8/uint16 mosaic, got {raw.shape} {raw.dtype}")
    return cv2.cvtColor(np.ascontiguousarray(raw), _CV_DEMOSAIC[pattern])


def to_raw(
    rgb: np.ndarray,
    regime: NoiseRegime,
    rng: np.random.Generator,
    processing: Processing | None = None,
    pattern: str = "RGGB",
    black_level: int | None = None,
    white_level: int | None = None,
) -> RawMosaic:
    """The clean RGB uint8 scene as a dark, noisy RAW mosaic (noise applied per Bayer site).

    ``black_level`` defaults to 64·2^(bit_depth − 10) (64 at 10 bits, 256 at 12; 0 below 10 bits),
    ``white_level`` to 2^bits − 1.
    """
    _check_rgb8(rgb)
    check_pattern(pattern)
    top = (1 << regime.bit_depth) - 1
    if black_level is None:
        black_level = 64 << (regime.bit_depth - 10) if regime.bit_depth >= 10 else 0
    white = top if white_level is None else int(white_level)
    camera = unprocess(rgb / 255.0, processing)
    codes = expose(mosaic(camera, pattern) / regime.ratio, regime, rng, black_level, white)
    return RawMosaic(codes, pattern, black_level, white, regime.ratio, processing, regime)


def raw_to_rgb(raw: RawMosaic, gain: float = 1.0) -> np.ndarray:
    """Process a RAW mosaic to H×W×3 RGB uint8: black level, digital ``gain``, demosaic, the camera's processing."""
    signal = (raw.data.astype(np.float64) - raw.black_level) / (raw.white_level - raw.black_level)
    # Demosaic at 16 bits on the clipped signal: the error is under 1/65535 of full scale.
    mosaic16 = np.rint(np.clip(signal * gain, 0.0, 1.0) * 65535).astype(np.uint16)
    camera = demosaic(mosaic16, raw.pattern) / 65535.0
    return _to_uint8(process(camera, raw.processing))


def _check_rgb8(rgb: np.ndarray) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        shape = getattr(rgb, "shape", None)
        raise ValueError(f"the noise model needs an H×W×3 RGB uint8 image, got {shape} {getattr(rgb, 'dtype', '')}")


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)
