"""Print parity figures: our models and engine backends against ../shared/golden, and ONNX vs torch."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from llie_core import create_enhancer
from llie_core.export import export_onnx
from llie_core.models import create_model
from llie_core.registry import shared_dir
from llie_core.resize import resize_bilinear

# The golden variants and pairs are described once, beside the tests that check them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "test"))
from golden import GOLDEN_PAIRS, read_rgb, variants_of  # noqa: E402


def main() -> int:
    """Print one line per golden pair and backend, then the ONNX-vs-torch table."""
    golden = shared_dir() / "golden"
    if not golden.is_dir():
        print(f"golden pairs missing: {golden}", file=sys.stderr)
        return 2
    torch.set_num_threads(2)
    print("variant            pair  torch out   torch curves  engine(torch) u8  engine(ort) u8  engine curves(ort)")
    for variant, name, s, w in variants_of("curve"):
        weights = w if w == "reference" else str(shared_dir() / "weights" / "reference" / w)
        model = create_model(name, weights=weights, scale_factor=s)
        engines = {
            b: create_enhancer(name, backend=b, weights=weights, scale_factor=s) for b in ("torch", "onnxruntime")
        }
        for pair in GOLDEN_PAIRS:
            folder = golden / variant
            image = read_rgb(folder / f"input_{pair}.png")
            expected = np.load(folder / f"output_{pair}.npy")
            curves_file = folder / f"curves_{pair}.npy"
            x = torch.from_numpy((image / 255.0).astype(np.float32)).permute(2, 0, 1)[None]
            with torch.no_grad():
                out, curves = model.enhance_with_curves(x)
            d_out = np.abs(out[0].permute(1, 2, 0).numpy() - expected).max()
            d_curves = "-"
            d_engine_curves = "-"
            if curves_file.exists():
                ref_curves = np.load(curves_file)
                d_curves = f"{np.abs(curves[0].permute(1, 2, 0).numpy() - ref_curves).max():.1e}"
                low = engines["onnxruntime"].estimate(image, rgb=True).maps
                full = resize_bilinear(low, image.shape[:2], align_corners=True)
                d_engine_curves = f"{np.abs(full - ref_curves).max():.1e}"
            ref_u8 = np.clip(np.rint(expected * 255), 0, 255)
            d_u8 = {b: int(np.abs(e.enhance(image, rgb=True) - ref_u8).max()) for b, e in engines.items()}
            print(
                f"{variant:<18} {pair}    {d_out:.1e}    {d_curves:<12}  {d_u8['torch']:<16}  {d_u8['onnxruntime']:<14}"
                f"  {d_engine_curves}"
            )
    print(
        "\nIAT family (scale factor 1) vs golden: max |diff| of the torch model's output and [gamma, M]; the"
        "\nengine's uint8 output in levels (vs the golden output rounded) and its float gap (|u8/255 - golden| · 255);"
        "\nort vs torch estimates (maps, globals)"
    )
    for variant, name, s, weights in variants_of("iat"):
        model = create_model(name, weights=weights, scale_factor=s)
        engines = {
            b: create_enhancer(name, backend=b, weights=weights, scale_factor=s) for b in ("torch", "onnxruntime")
        }
        for pair in GOLDEN_PAIRS:
            folder = golden / variant
            image = read_rgb(folder / f"input_{pair}.png")
            expected = np.load(folder / f"output_{pair}.npy")
            x = torch.from_numpy(image / np.float32(255)).permute(2, 0, 1)[None]
            with torch.no_grad():
                out, _, params = model.enhance_with_maps(x)
            d_out = np.abs(out[0].permute(1, 2, 0).numpy() - expected).max()
            d_globals = np.abs(params[0].numpy() - np.load(folder / f"globals_{pair}.npy")).max()
            est = {b: e.estimate(image, rgb=True) for b, e in engines.items()}
            u8 = {b: e.apply(image, est[b], rgb=True).astype(np.float64) for b, e in engines.items()}
            ref_u8 = np.clip(np.rint(expected * 255), 0, 255)
            levels = "/".join(str(int(np.abs(u8[b] - ref_u8).max())) for b in engines)
            gap = "/".join(f"{np.abs(u8[b] - np.clip(expected, 0, 1) * 255).max():.3f}" for b in engines)
            d_maps = np.abs(est["torch"].maps - est["onnxruntime"].maps).max()
            d_est_globals = np.abs(est["torch"].globals - est["onnxruntime"].globals).max()
            print(
                f"{variant:<18} {pair}    output {d_out:.1e}   globals {d_globals:.1e}   engine u8 (torch/ort) {levels}"
                f" levels, gap {gap}   ort-torch maps {d_maps:.1e} globals {d_est_globals:.1e}"
            )
    _iat_onnx_parity(golden)
    print("\nONNX full graph (onnxruntime) vs torch, max |diff| after uint8 conversion, and in float")
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    sizes = [(1, 1), (7, 13), (37, 53), (480, 640), (720, 1280)]
    for name, s in [("zero_dce", 1), ("zero_dce_pp", 12), ("tiny_dce", 12), ("tiny_dce", 1)]:
        model = create_model(name, weights="reference", scale_factor=s)
        session = ort.InferenceSession(export_onnx(model, graph="full"), providers=["CPUExecutionProvider"])
        inputs = [read_rgb(golden / "tiny_dce_sf1" / f"input_{p}.png") / np.float32(255) for p in GOLDEN_PAIRS]
        inputs += [rng.random((*hw, 3), dtype=np.float32) * 0.4 for hw in sizes]
        worst_u8 = worst_f = 0.0
        for image in inputs:
            xx = image.transpose(2, 0, 1)[None].astype(np.float32)
            got = session.run(None, {"image": xx})[0]
            with torch.no_grad():
                ref = model(torch.from_numpy(xx)).numpy()
            worst_f = max(worst_f, float(np.abs(got - ref).max()))
            to_u8 = lambda a: np.clip(np.rint(a * 255), 0, 255)  # noqa: E731
            worst_u8 = max(worst_u8, float(np.abs(to_u8(got) - to_u8(ref)).max()))
        print(f"{name:<12} s={s:<3} golden inputs + sizes {sizes}: uint8 {worst_u8:.0f}/255, float {worst_f:.1e}")
    return 0


def _iat_onnx_parity(golden: Path) -> None:
    """Print the IAT estimator graphs' onnxruntime-vs-torch differences (maps, globals) over several sizes."""
    import onnxruntime as ort

    print("\nIAT estimator graph (onnxruntime) vs torch estimate(): max |diff| of maps and globals")
    rng = np.random.default_rng(0)
    sizes = [(1, 1), (7, 13), (37, 53), (135, 240), (400, 600)]
    for name in ("iat", "iat_student"):
        model = create_model(name, weights="reference")
        session = ort.InferenceSession(export_onnx(model, graph="estimator"), providers=["CPUExecutionProvider"])
        inputs = [read_rgb(golden / "iat_student" / f"input_{p}.png") / np.float32(255) for p in GOLDEN_PAIRS]
        inputs += [rng.random((*hw, 3), dtype=np.float32) for hw in sizes]
        worst_maps = worst_globals = 0.0
        for image in inputs:
            x = np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)
            maps, params = session.run(None, {"image": x})
            with torch.no_grad():
                ref_maps, ref_params = model.estimate(torch.from_numpy(x))
            worst_maps = max(worst_maps, float(np.abs(maps - ref_maps.numpy()).max()))
            worst_globals = max(worst_globals, float(np.abs(params - ref_params.numpy()).max()))
        print(f"{name:<12} golden inputs + sizes {sizes}: maps {worst_maps:.1e}, globals {worst_globals:.1e}")


if __name__ == "__main__":
    sys.exit(main())
