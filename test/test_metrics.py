"""Image-quality metrics: NIQE, brightness, entropy, colourfulness, LOE, PSNR, SSIM, MATLAB imresize."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import shared_path
from golden import read_rgb

from llie_core.metrics import brightness, colourfulness, entropy, lightness_order_error, niqe, psnr, ssim
from llie_core.metrics.imresize import imresize


def _natural_image() -> np.ndarray:
    shared_path("metrics", "niqe_modelparameters.mat")
    return read_rgb(shared_path("data", "lowlight", "lime", "10.bmp"))


def test_metrics_package_does_not_import_torch() -> None:
    code = "import sys, llie_core.metrics; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_niqe_prefers_sharp_over_blurred_and_noisy() -> None:
    import cv2

    img = _natural_image()
    blurred = cv2.GaussianBlur(img, (0, 0), 3)
    noisy = np.clip(img + np.random.default_rng(0).normal(0, 20, img.shape), 0, 255).astype(np.uint8)
    sharp = niqe(img)
    assert 2.0 < sharp < 8.0
    assert niqe(blurred) > sharp + 2
    assert niqe(noisy) > sharp + 2
    assert niqe(img) == sharp  # deterministic


def test_niqe_rejects_tiny_images() -> None:
    shared_path("metrics", "niqe_modelparameters.mat")
    with pytest.raises(ValueError, match="too small"):
        niqe(np.zeros((90, 90, 3), np.uint8))


def test_brightness_entropy_colourfulness_on_constructed_images() -> None:
    flat = np.full((8, 8, 3), 153, np.uint8)
    assert brightness(flat) == pytest.approx(0.6)
    assert entropy(flat) == 0.0
    assert colourfulness(flat) == 0.0
    half = np.zeros((8, 8, 3), np.uint8)
    half[:4] = 255
    assert entropy(half) == pytest.approx(1.0)
    red = np.zeros((8, 8, 3), np.uint8)
    red[..., 0] = 255
    assert colourfulness(red) == pytest.approx(0.3 * np.hypot(255, 127.5))


def test_loe_zero_for_order_preserving_and_positive_for_inversion() -> None:
    rng = np.random.default_rng(1)
    img = (4 * rng.integers(0, 51, (60, 80, 3))).astype(np.uint8)
    # A linear brightening commutes with LOE's downscaling, so it keeps every lightness order
    # (up to float ties); a non-linear curve need not, since LOE compares downscaled images.
    brighter = (img.astype(np.int32) * 5 // 4).astype(np.uint8)
    assert lightness_order_error(img, img) == 0.0
    assert lightness_order_error(img, brighter) < 1.0
    assert lightness_order_error(img, 255 - img) > 100


def test_psnr_and_ssim() -> None:
    a = np.random.default_rng(2).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert psnr(a, a) == float("inf")
    b = a.astype(np.int16)
    b[..., 0] = np.where(b[..., 0] < 250, b[..., 0] + 5, b[..., 0] - 5)
    # MSE = 25 on one channel of three → 25/3 overall.
    assert psnr(a, b.astype(np.uint8)) == pytest.approx(10 * np.log10(255**2 / (25 / 3)))
    assert ssim(a, a) == pytest.approx(1.0)
    assert ssim(a, 255 - a) < 0.1
    with pytest.raises(ValueError, match="shape"):
        psnr(a, a[:16])


def test_imresize_matches_matlab_on_constant_and_ramp() -> None:
    assert np.allclose(imresize(np.full((20, 30), 7.0), scale=0.5), 7.0)
    ramp = np.tile(np.arange(1, 41, dtype=np.float64), (8, 1))
    out = imresize(ramp, scale=0.5)
    assert out.shape == (4, 20)
    # MATLAB maps output column j (1-based) to input coordinate 2j - 0.5; away from the mirrored border
    # the symmetric, normalised kernel reproduces a linear ramp exactly.
    assert np.allclose(out[:, 3:-3], 2 * np.arange(4, 18) - 0.5)


def test_parse_model_entries() -> None:
    from llie_core.cli.eval import ModelEntry, parse_model

    assert parse_model("tiny_dce") == ModelEntry("tiny_dce", "tiny_dce")
    assert parse_model("pub=tiny_dce:reference@1") == ModelEntry("pub", "tiny_dce", "reference", 1)
    assert parse_model("x=zero_dce_pp:/a/b.pth@12") == ModelEntry("x", "zero_dce_pp", "/a/b.pth", 12)
    entry = parse_model("x=iat_student:/a/b.pth@max256")
    assert entry == ModelEntry("x", "iat_student", "/a/b.pth", None, 256)
    assert entry.options == {"max_estimation_side": 256} and parse_model("tiny_dce@4").options == {"scale_factor": 4}
    for bad in ("x=tiny_dce@0", "x=tiny_dce@max0", "x=tiny_dce@maxx"):
        with pytest.raises(ValueError, match="scale factor"):
            parse_model(bad)


def test_eval_tables_and_grid(tmp_path) -> None:
    torch = pytest.importorskip("torch")
    import cv2

    from llie_core.cli import main
    from llie_core.models.dce import TinyDCE

    folder = tmp_path / "set"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        cv2.imwrite(str(folder / f"{i}.png"), rng.integers(0, 60, (100, 200, 3), dtype=np.uint8))
    torch.manual_seed(0)
    weights = tmp_path / "tiny.pth"
    torch.save(TinyDCE().state_dict(), weights)
    out = tmp_path / "out"
    argv = ["eval", f"a=tiny_dce:{weights}@4", f"b=tiny_dce:{weights}@4", "--compare", "a:b"]
    argv += ["--data", str(folder), "--no-niqe", "--out", str(out)]
    assert main(argv) == 0
    import yaml

    summary = yaml.safe_load((out / "summary.yaml").read_text())
    same = [r for r in summary["agreement"] if r["set"] == "all"][0]
    assert same["psnr"] == float("inf") and same["ssim"] == pytest.approx(1.0)
    models = {r["model"] for r in summary["quality"]}
    assert models == {"input", "a", "b"}
    grid = cv2.imread(str(out / "grid.png"))
    assert grid is not None and grid.shape[0] > 2 * 100
