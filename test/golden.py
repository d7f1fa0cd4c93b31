"""The golden input/output pairs in ../shared/golden: which variants exist and how their inputs are read.

Plain module (no pytest), shared by the parity tests and benchmarks/parity.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def read_rgb(path: Path) -> np.ndarray:
    """An image file as H×W×3 RGB uint8 (PIL-free, like the golden README's decoding of PNG)."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, f"cannot read {path}"
    return np.ascontiguousarray(image[:, :, ::-1])


# (golden variant, model name, scale factor, weights): weights "reference[:VARIANT]" or a file in weights/reference.
# Curve variants may hold curves_XX.npy (full-resolution curves); IAT variants hold globals_XX.npy =
# [gamma, M row-major] and run at scale factor 1 (the published models).
GOLDEN_VARIANTS = [
    ("zero_dce", "zero_dce", 1, "reference"),
    ("zero_dce_pp_sf1", "zero_dce_pp", 1, "reference"),
    ("zero_dce_pp_sf12", "zero_dce_pp", 12, "reference"),
    ("tiny_dce_sf1", "tiny_dce", 1, "reference"),
    ("tiny_dce_sf12", "tiny_dce", 12, "reference"),
    ("sgz", "sgz", 12, "reference"),
    ("iat_lolv1", "iat", 1, "reference:lol_v1"),
    ("iat_lolv2", "iat", 1, "reference:lol_v2"),
    ("iat_student", "iat_student", 1, "reference"),
]


def variants_of(kind: str) -> list[tuple[str, str, int, str]]:
    """The golden variants whose model is of one family ("curve" or "iat")."""
    from llie_core.registry import get_spec

    return [v for v in GOLDEN_VARIANTS if get_spec(v[1]).kind == kind]


GOLDEN_PAIRS = ["01", "02"]
