"""``create_enhancer``: any registered method behind one interface, on the backend that fits."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from llie_core.engine.base import Enhancer
from llie_core.engine.estimate import Estimate
from llie_core.engine.network import NetworkEnhancer
from llie_core.engine.raw import RawEnhancer
from llie_core.registry import (
    DEFAULT_MODEL,
    ModelSpec,
    default_max_estimation_side,
    default_scale_factor,
    get_spec,
    resolve_weights,
)

BACKENDS = ("auto", "onnxruntime", "torch", "numpy")

__all__ = [
    "BACKENDS",
    "Enhancer",
    "Estimate",
    "MissingWeightsError",
    "NetworkEnhancer",
    "RawEnhancer",
    "create_enhancer",
]


class MissingWeightsError(FileNotFoundError):
    """A model was asked for without weights, and the package ships none for it."""


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _missing_weights(spec: ModelSpec) -> MissingWeightsError:
    return MissingWeightsError(
        f"no weights for {spec.name!r}: the package ships none yet (looked for {spec.default_weights('.onnx')} "
        f"and {spec.default_weights('.pth')}). Pass weights=PATH (a .pth state_dict or an estimator .onnx), or "
        f"weights='reference' for the published checkpoint in the shared folder; `make weights` trains the defaults."
    )


def _is_onnx(weights: str | Path | None) -> bool:
    return weights is not None and str(weights).lower().endswith(".onnx")


def _pick_backend(spec: ModelSpec, weights: str | Path | None) -> str:
    if _is_onnx(weights):
        return "onnxruntime"
    has_ort = _installed("onnxruntime")
    if weights is None and has_ort and spec.default_weights(".onnx").is_file():
        return "onnxruntime"
    if _installed("torch"):
        return "torch"
    if has_ort:
        return "onnxruntime"
    raise ImportError("neither onnxruntime nor torch is installed: pip install 'llie[onnx]' (or 'llie[torch]')")


def _checkpoint(spec: ModelSpec, weights: str | Path | None) -> Path:
    """The .pth file that ``weights`` names for the torch backend."""
    path = resolve_weights(spec.name, weights)
    if path is None:
        raise _missing_weights(spec)
    if _is_onnx(path):
        raise ValueError(f"the torch backend needs a .pth checkpoint, got {path}; use backend='onnxruntime'")
    if not path.is_file():
        raise FileNotFoundError(f"weights file {path} does not exist")
    return path


def _onnx_model(spec: ModelSpec, weights: str | Path | None) -> Path | bytes:
    """The estimator graph ``weights`` names: a shipped/given .onnx, or an in-memory export of a .pth (needs torch)."""
    if weights is None and spec.default_weights(".onnx").is_file():
        return spec.default_weights(".onnx")
    if _is_onnx(weights):
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(f"weights file {path} does not exist")
        return path
    checkpoint = _checkpoint(spec, weights)
    if not _installed("torch"):
        raise ImportError(f"running {checkpoint} on onnxruntime needs an ONNX export, which needs torch")
    from llie_core.export import export_onnx
    from llie_core.models import create_model

    return export_onnx(create_model(spec.name, weights=checkpoint), graph="estimator")


def create_enhancer(
    name: str | None = None,
    backend: str = "auto",
    weights: str | Path | None = None,
    device: str = "cpu",
    **options,
) -> Enhancer:
    """Build an enhancer by model name (None: ``registry.DEFAULT_MODEL``, the noise-aware DCE).

    backend: "auto" (onnxruntime for shipped/.onnx weights, else torch; numpy for classical
    methods), "onnxruntime" (a .pth is exported in memory, which needs torch), "torch" or "numpy".
    weights: None (shipped default), "reference[:VARIANT]" (published checkpoint in the shared folder)
    or a path (.pth or estimator .onnx). Options for networks (curve and IAT models): ``scale_factor``
    (default: ``default_scale_factor``, the shipped weights' model card's or the registry's),
    ``max_estimation_side`` (the estimator sees at most this many pixels on the frame's longer side, at a scale
    factor of at least ``scale_factor`` or 1; default: the card's ``max_estimation_side`` unless ``scale_factor``
    is given, which then holds for every frame size) and ``threads``; RAW models (``takes_raw``: a
    ``bayer.RawFrame`` in, sRGB out) also ``amplification`` (None: estimated per frame; a number: that digital
    gain, e.g. a known exposure ratio), and their scale factor bins the mosaic before the network; method
    parameters for classical ones.
    """
    name = DEFAULT_MODEL if name is None else name
    spec = get_spec(name)
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    if not spec.is_network:
        if backend not in ("auto", "numpy"):
            raise ValueError(f"{name!r} is a classical method and runs on the numpy backend, not {backend!r}")
        if weights is not None:
            raise ValueError(f"{name!r} is a classical method and takes no weights")
        from llie_core.classical import CLASSICAL_METHODS
        from llie_core.engine.classical import ClassicalEnhancer

        return ClassicalEnhancer(spec, CLASSICAL_METHODS[name], **options)

    if backend == "numpy":
        raise ValueError(f"{name!r} is a network; use backend 'onnxruntime' or 'torch'")
    scale_factor = options.pop("scale_factor", None)
    max_side = options.pop("max_estimation_side", None)
    if scale_factor is None:
        max_side = default_max_estimation_side(name, weights) if max_side is None else max_side
        scale_factor = default_scale_factor(name, weights) if max_side is None else 1
    threads = options.pop("threads", None)
    amplification = options.pop("amplification", None) if spec.kind == "raw" else None
    if options:
        valid = ["max_estimation_side", "scale_factor", "threads"] + (["amplification"] if spec.kind == "raw" else [])
        raise TypeError(f"unknown options for {name!r}: {sorted(options)}; valid: {valid}")
    if backend == "auto":
        backend = _pick_backend(spec, weights)
    if backend == "torch":
        from llie_core.engine.torch_backend import TorchEstimator

        estimator = TorchEstimator(name, _checkpoint(spec, weights), device, threads)
    else:
        from llie_core.engine.onnx_backend import OrtEstimator

        estimator = OrtEstimator(_onnx_model(spec, weights), name, device, threads)
    if spec.kind == "raw":
        return RawEnhancer(spec, estimator, backend, scale_factor, amplification)
    return NetworkEnhancer(spec, estimator, backend, scale_factor, max_side)
