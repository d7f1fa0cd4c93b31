"""Small image-quality functions on H×W×3 RGB uint8 images (numpy/scipy; no torch).

Conventions: brightness, entropy, colourfulness and LOE take one ``np.ndarray`` uint8 H×W×3 RGB and
return a float; PSNR and SSIM compare two such images of the same shape.
"""

from __future__ import annotations

import numpy as np

# MATLAB rgb2gray coefficients (first row of the inverse NTSC transform).
_GREY = np.array([0.298936021293775, 0.587043074451121, 0.114020904255103])


def _check_rgb(name: str, image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"{name} must be an H×W×3 RGB image, got shape {img.shape}")
    if img.dtype != np.uint8:
        raise ValueError(f"{name} must be uint8, got {img.dtype}")
    return img


def grey(image: np.ndarray) -> np.ndarray:
    """H×W float64 grey level in [0, 255], rounded like MATLAB rgb2gray on uint8."""
    img = _check_rgb("image", image)
    return np.round(img.astype(np.float64) @ _GREY)


def brightness(image: np.ndarray) -> float:
    """Mean of all pixels and channels in [0, 1] (the quantity the exposure loss drives to E)."""
    return float(_check_rgb("image", image).mean() / 255.0)


def entropy(image: np.ndarray) -> float:
    """Shannon entropy (bits) of the 256-bin grey-level histogram; 0 for a flat image, at most 8."""
    hist = np.bincount(grey(image).astype(np.int64).ravel(), minlength=256).astype(np.float64)
    p = hist[hist > 0] / hist.sum()
    return float(-(p * np.log2(p)).sum())


def colourfulness(image: np.ndarray) -> float:
    """Hasler & Süsstrunk (2003) colourfulness M = σ_rgyb + 0.3·μ_rgyb on the 0–255 scale; 0 for grey."""
    img = _check_rgb("image", image).astype(np.float64)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    rg = r - g
    yb = 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def lightness_order_error(original: np.ndarray, enhanced: np.ndarray, size: int = 50) -> float:
    """LOE (Wang et al. 2013, NPE): mean count of relative-lightness order flips, lightness = max(R, G, B).

    Both images are MATLAB-bicubic downscaled so the shorter side is ``size`` (as the authors' LOE.m)
    and every pixel pair compared; 0 when the enhancement keeps the order of lightness everywhere.
    """
    from llie_core.metrics.imresize import imresize

    a = _check_rgb("original", original)
    b = _check_rgb("enhanced", enhanced)
    if a.shape != b.shape:
        raise ValueError(f"original {a.shape} and enhanced {b.shape} differ in shape")
    h, w = a.shape[:2]
    r = size / min(h, w)
    shape = (max(1, int(round(h * r))), max(1, int(round(w * r))))
    la = imresize(a.max(axis=2).astype(np.float64), shape).ravel()
    lb = imresize(b.max(axis=2).astype(np.float64), shape).ravel()
    flips = (la[:, None] >= la[None, :]) != (lb[:, None] >= lb[None, :])
    return float(flips.sum() / la.size)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB (peak 255) of two uint8 RGB images of the same shape; inf when identical."""
    x = _check_rgb("a", a).astype(np.float64)
    y = _check_rgb("b", b).astype(np.float64)
    if x.shape != y.shape:
        raise ValueError(f"a {x.shape} and b {y.shape} differ in shape")
    mse = np.mean((x - y) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM (Wang et al. 2004: 11×11 Gaussian σ = 1.5, K = 0.01/0.03, L = 255) over RGB, valid region."""
    from scipy.ndimage import correlate1d

    x = _check_rgb("a", a).astype(np.float64)
    y = _check_rgb("b", b).astype(np.float64)
    if x.shape != y.shape:
        raise ValueError(f"a {x.shape} and b {y.shape} differ in shape")
    if min(x.shape[:2]) < 11:
        raise ValueError(f"SSIM needs images of at least 11×11, got {x.shape[:2]}")
    t = np.arange(11) - 5
    g = np.exp(-(t**2) / (2 * 1.5**2))
    g /= g.sum()

    def blur(img: np.ndarray) -> np.ndarray:
        out = correlate1d(correlate1d(img, g, axis=0, mode="constant"), g, axis=1, mode="constant")
        return out[5:-5, 5:-5]  # the valid region: windows entirely inside the image

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx**2
    syy = blur(y * y) - my**2
    sxy = blur(x * y) - mx * my
    ssim_map = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
    return float(ssim_map.mean())
