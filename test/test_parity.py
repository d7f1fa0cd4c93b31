"""Golden parity: our models against the official implementations' outputs (../shared/golden)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_path, weights_arg
from golden import GOLDEN_PAIRS, GOLDEN_VARIANTS, read_rgb, variants_of

from llie_core import create_enhancer
from llie_core.registry import shared_dir

TOLERANCE = 1e-4
pytestmark = pytest.mark.skipif(
    not (shared_dir() / "golden").is_dir(), reason=f"golden pairs missing: {shared_dir() / 'golden'}"
)


def _golden(variant: str, pair: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(input RGB uint8, output, the estimate's reference: full-resolution curves or IAT globals, if stored)."""
    folder = shared_path("golden", variant)
    extra = next((f for f in (folder / f"curves_{pair}.npy", folder / f"globals_{pair}.npy") if f.exists()), None)
    return (
        read_rgb(folder / f"input_{pair}.png"),
        np.load(folder / f"output_{pair}.npy"),
        None if extra is None else np.load(extra),
    )


@pytest.mark.parametrize(("variant", "name", "scale_factor", "weights"), variants_of("curve"))
@pytest.mark.parametrize("pair", GOLDEN_PAIRS)
def test_torch_model_reproduces_golden(torch_threads, variant, name, scale_factor, weights, pair):
    torch = torch_threads
    from llie_core.models import create_model

    image, expected, expected_curves = _golden(variant, pair)
    model = create_model(name, weights=weights_arg(weights), scale_factor=scale_factor)
    # golden preprocessing: uint8 / 255 in float64, then float32
    x = torch.from_numpy((image / 255.0).astype(np.float32)).permute(2, 0, 1)[None]
    with torch.no_grad():
        out, curves = model.enhance_with_curves(x)
    assert np.abs(out[0].permute(1, 2, 0).numpy() - expected).max() <= TOLERANCE
    if expected_curves is not None:
        assert np.abs(curves[0].permute(1, 2, 0).numpy() - expected_curves).max() <= TOLERANCE


@pytest.mark.parametrize(("variant", "name", "scale_factor", "weights"), variants_of("iat"))
def test_iat_model_reproduces_golden(torch_threads, variant, name, scale_factor, weights):
    torch = torch_threads
    from llie_core.models import create_model

    model = create_model(name, weights=weights_arg(weights), scale_factor=scale_factor)
    for pair in GOLDEN_PAIRS:
        image, expected, expected_globals = _golden(variant, pair)
        x = torch.from_numpy((image / 255.0).astype(np.float32)).permute(2, 0, 1)[None]
        with torch.no_grad():
            out, _, params = model.enhance_with_maps(x)
        assert np.abs(out[0].permute(1, 2, 0).numpy() - expected).max() <= TOLERANCE
        assert np.abs(params[0].numpy() - expected_globals).max() <= TOLERANCE


@pytest.fixture(scope="module")
def enhancers(torch_threads):
    cache: dict = {}

    def get(name: str, weights: str, scale_factor: int, backend: str):
        key = (name, weights, scale_factor, backend)
        if key not in cache:
            cache[key] = create_enhancer(name, backend=backend, weights=weights_arg(weights), scale_factor=scale_factor)
        return cache[key]

    return get


@pytest.fixture(scope="module")
def estimates(enhancers):
    """Each (variant, pair, backend)'s engine estimate, computed once (the IAT ones take seconds)."""
    cache: dict = {}

    def get(variant: str, name: str, scale_factor: int, weights: str, backend: str, pair: str):
        key = (variant, pair, backend)
        if key not in cache:
            enhancer = enhancers(name, weights, scale_factor, backend)
            cache[key] = enhancer.estimate(_golden(variant, pair)[0], rgb=True)
        return cache[key]

    return get


@pytest.mark.parametrize(("variant", "name", "scale_factor", "weights"), GOLDEN_VARIANTS)
@pytest.mark.parametrize("backend", ["torch", "onnxruntime"])
def test_engine_reproduces_golden(enhancers, estimates, variant, name, scale_factor, weights, backend):
    enhancer = enhancers(name, weights, scale_factor, backend)
    for pair in GOLDEN_PAIRS:
        image, expected, expected_estimate = _golden(variant, pair)
        # float path: the estimate at estimation resolution (curves upsampled by the engine's rule)
        estimate = estimates(variant, name, scale_factor, weights, backend, pair)
        if expected_estimate is not None and enhancer.spec.kind == "curve":
            from llie_core.resize import resize_bilinear

            full = resize_bilinear(estimate.maps, image.shape[:2], align_corners=True)
            assert np.abs(full - expected_estimate).max() <= TOLERANCE
        elif expected_estimate is not None:
            assert np.abs(estimate.globals - expected_estimate).max() <= TOLERANCE
        # uint8 result (apply ∘ estimate is enhance: test_engine): the golden output rounded, within one level at
        # rounding boundaries
        out = enhancer.apply(image, estimate, rgb=True).astype(np.float64) / 255
        assert np.abs(out - np.clip(expected, 0, 1)).max() <= 0.5 / 255 + TOLERANCE


@pytest.mark.parametrize(("variant", "name", "scale_factor", "weights"), GOLDEN_VARIANTS)
def test_engine_backends_agree_on_the_estimate(estimates, variant, name, scale_factor, weights):
    for pair in GOLDEN_PAIRS:
        a, b = (estimates(variant, name, scale_factor, weights, backend, pair) for backend in ("torch", "onnxruntime"))
        assert a.maps.shape == b.maps.shape and a.globals.shape == b.globals.shape
        assert np.abs(a.maps - b.maps).max() <= TOLERANCE
        assert np.abs(a.globals - b.globals).max(initial=0.0) <= TOLERANCE
