"""No-reference and full-reference image-quality metrics (numpy; NIQE also scipy; never imports torch)."""

from llie_core.metrics.quality import (
    brightness,
    colourfulness,
    entropy,
    grey,
    lightness_order_error,
    psnr,
    ssim,
)

__all__ = ["brightness", "colourfulness", "entropy", "grey", "lightness_order_error", "niqe", "psnr", "ssim"]


def __getattr__(name: str):
    # NIQE needs scipy, which the runtime install does not carry; import it only when asked for.
    if name == "niqe":
        from llie_core.metrics.niqe_model import niqe

        return niqe
    raise AttributeError(f"module 'llie_core.metrics' has no attribute {name!r}")
