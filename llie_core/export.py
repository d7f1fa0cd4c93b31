"""ONNX export of the torch models: the full graph (image → enhanced, ...) or the estimator only.

Curve models: full = image → enhanced, curves; estimator = image → curves. IAT models: full =
image → enhanced, maps, globals; estimator = image → maps, globals (``IATFamily.estimate``). The noise-aware
DCE exports its estimator only (image with the noise-sigma plane, N×4×h×w → maps): its noise estimate and
denoise guides are OpenCV work outside the network.
The RAW
model: full = planes (N×4×h×w packed RGGB) → enhanced (N×3×2h×2w sRGB); estimator = packed
(N×256×h×w) → packed_rgb (N×192×2h×2w, ``LLPackNet.estimate``): the engine packs and unpacks.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import torch

from llie_core.models import CurveModel, IATFamily, LLPackNet, NoiseAwareDCE

Model = CurveModel | IATFamily | NoiseAwareDCE | LLPackNet

GRAPHS = ("full", "estimator")
OPSET = 18
Model = CurveModel | IATFamily | LLPackNet


class _FullGraph(torch.nn.Module):
    def __init__(self, model: Model) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if isinstance(self.model, IATFamily):
            return self.model.enhance_with_maps(image)
        if isinstance(self.model, LLPackNet):
            return (self.model(image),)
        return self.model.enhance_with_curves(image)


class _EstimatorGraph(torch.nn.Module):
    def __init__(self, model: Model) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        return self.model.estimate(image)


def output_names(model: Model, graph: str) -> list[str]:
    """Names of the graph's outputs, in order."""
    if isinstance(model, NoiseAwareDCE):
        return ["maps"]
    if isinstance(model, LLPackNet):
        return ["enhanced"] if graph == "full" else ["packed_rgb"]
    estimated = ["maps", "globals"] if isinstance(model, IATFamily) else ["curves"]
    return ["enhanced", *estimated] if graph == "full" else estimated


def _example_input(model: Model, graph: str) -> tuple[str, torch.Tensor]:
    """(input name, example tensor) of a graph: RGB images, or for the RAW model its planes / packed input."""
    if isinstance(model, LLPackNet):
        return ("planes", torch.rand(1, 4, 24, 32)) if graph == "full" else ("packed", torch.rand(1, 256, 3, 4))
    return "image", torch.rand(1, getattr(model, "input_channels", 3), 48, 64)


def export_onnx(model: Model, path: str | Path | None = None, graph: str = "full") -> bytes:
    """Export ``model`` to ONNX with dynamic batch, H and W; writes ``path`` if given and returns the bytes.

    graph="full": input ``image`` N×3×H×W RGB in [0, 1] → ``enhanced`` N×3×H×W and what was estimated
    (curves at full resolution; IAT maps at estimation resolution and globals), with the model's
    scale_factor baked in. graph="estimator": input ``image`` at estimation resolution → ``curves``
    (or ``maps`` N×6×h×w and ``globals`` N×10) at that resolution: what the engine runs; resizing and
    application happen outside, so any scale factor works with one file. The RAW model's graphs:
    see the module docstring (sizes a multiple of 8 planes for the full graph).
    """
    if graph not in GRAPHS:
        raise ValueError(f"unknown graph {graph!r}; valid: {', '.join(GRAPHS)}")
    if graph == "full" and isinstance(model, NoiseAwareDCE):
        raise ValueError(
            f"{model.spec_name} exports its estimator graph only (graph='estimator'): its noise estimate and "
            "denoise guides run in OpenCV outside the network"
        )
    wrapper = _FullGraph(model) if graph == "full" else _EstimatorGraph(model)
    outputs = output_names(model, graph)
    input_name, example = _example_input(model, graph)
    dim = torch.export.Dim.AUTO
    # The exporter prints progress lines on stdout; keep command output clean.
    with contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
        program = torch.onnx.export(
            wrapper.eval(),
            (example,),
            None,
            input_names=[input_name],
            output_names=outputs,
            dynamic_shapes=({0: dim, 2: dim, 3: dim},),
            opset_version=OPSET,
            dynamo=True,
            verbose=False,
        )
    onnx_model = program.model_proto
    meta = {"llie_model": model.spec_name, "llie_graph": graph, "llie_scale_factor": str(model.scale_factor)}
    if isinstance(model, CurveModel | NoiseAwareDCE):
        meta["llie_iterations"] = str(model.iterations)
    del onnx_model.metadata_props[:]
    for key, value in meta.items():
        entry = onnx_model.metadata_props.add()
        entry.key, entry.value = key, value
    data = onnx_model.SerializeToString()
    if path is not None:
        Path(path).write_bytes(data)
    return data
