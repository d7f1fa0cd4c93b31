"""ONNX Runtime backend: runs an exported estimator graph (CPU; CUDA/TensorRT providers when present)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from llie_core.engine.estimate import Estimate

GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")


def providers_for(device: str) -> list[str]:
    """Execution providers for a device name ("cpu", "cuda", "cuda:N"), best first."""
    available = ort.get_available_providers()
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if device.startswith("cuda"):
        gpu = [p for p in GPU_PROVIDERS if p in available]
        if not gpu:
            raise RuntimeError(f"device {device!r} requested but onnxruntime has no GPU provider (has {available})")
        return [*gpu, "CPUExecutionProvider"]
    raise ValueError(f"unknown device {device!r}; valid: cpu, cuda, cuda:N")


class OrtEstimator:
    """Runs an llie estimator graph (``llie export --graph estimator``) with onnxruntime."""

    def __init__(self, model: str | Path | bytes, name: str, device: str = "cpu", threads: int | None = None) -> None:
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        label = "in-memory export" if isinstance(model, bytes) else str(model)
        providers = providers_for(device)
        try:
            source = model if isinstance(model, bytes) else str(model)
            self.session = ort.InferenceSession(source, options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types for unreadable files
            raise ValueError(f"cannot load ONNX model {label}: {exc}") from exc
        meta = self.session.get_modelmeta().custom_metadata_map
        if meta.get("llie_graph") != "estimator":
            raise ValueError(
                f"{label} is not an llie estimator graph (llie_graph={meta.get('llie_graph')!r}); "
                f"export one with: llie export {name} --graph estimator -o FILE.onnx"
            )
        if meta.get("llie_model") != name:
            raise ValueError(f"{label} holds model {meta.get('llie_model')!r}, not {name!r}")
        self._input = self.session.get_inputs()[0].name
        outputs = [o.name for o in self.session.get_outputs()]
        # curve models output "curves"; IAT models "maps" and "globals"; the noise-aware DCE "maps"; RAW models
        # "packed_rgb" (llie_core.export.output_names)
        choices = (["curves"], ["maps", "globals"], ["maps"], ["packed_rgb"])
        self._outputs = next((names for names in choices if set(names) <= set(outputs)), None)
        if self._outputs is None:
            raise ValueError(
                f"{label} has outputs {outputs}; an estimator graph has 'curves', 'maps' and 'globals', 'maps', or "
                "'packed_rgb'"
            )

    def __call__(self, image: np.ndarray) -> Estimate:
        """h×w×C float32 estimator input (RGB, for some families more channels) → its Estimate (maps h×w×C, globals)."""
        x = np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)
        results = self.session.run(self._outputs, {self._input: x})
        maps = results[0][0].transpose(1, 2, 0)
        return Estimate(maps) if len(results) == 1 else Estimate(maps, results[1][0])

    def run_packed(self, packed: np.ndarray) -> np.ndarray:
        """RAW models: 256×h×w float32 packed RAW → 192×2h×2w sRGB sub-pixels (uint8 codes from an int8 graph)."""
        return self.session.run(self._outputs, {self._input: packed[None]})[0][0]
