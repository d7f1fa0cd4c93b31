"""llie's IAT student: bounded globals by construction, which layout a checkpoint selects, the shipped weights
never collapse (bright, dark, saturated, flat and pure-colour frames), their globals ignore the estimation
resolution, and the ONNX estimator agrees with torch."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import assert_estimator_graph_matches, shared_path  # noqa: E402

from llie_core import create_enhancer  # noqa: E402
from llie_core.frames import LUMA_WEIGHTS  # noqa: E402
from llie_core.models import BoundedIATStudent, IATStudent, create_model  # noqa: E402
from llie_core.models.iat_student import (  # noqa: E402
    DIAGONAL_BOUND,
    GAIN_RANGE,
    GAMMA_RANGE,
    OFFDIAGONAL_RANGE,
    SMOOTHING_GAIN,
    SMOOTHING_MAX,
    SMOOTHING_NOISE,
    SMOOTHING_SENSOR,
    bounded_globals,
    frame_noise,
    identity_bias,
    noise_gain,
)
from llie_core.registry import default_max_estimation_side, default_scale_factor, get_spec  # noqa: E402
from llie_core.synthetic import night_scene  # noqa: E402

SPEC = get_spec("iat_student")
SHIPPED = SPEC.default_weights(".pth")
SHIPPED_SCALE = default_scale_factor("iat_student")  # the card's (the torch model's)
SHIPPED_SIDE = default_max_estimation_side("iat_student")  # the card's: the engine's operating point
needs_shipped = pytest.mark.skipif(not SHIPPED.is_file(), reason=f"no shipped weights at {SHIPPED}")


def test_globals_are_bounded_whatever_the_head_outputs():
    raw = torch.cat([torch.randn(2000, 11) * 30, torch.full((1, 11), 1e4), torch.full((1, 11), -1e4)])
    params = bounded_globals(raw)
    gamma, matrix = params[:, 0], params[:, 1:].reshape(-1, 3, 3)
    assert torch.isfinite(params).all()
    assert (gamma >= GAMMA_RANGE[0]).all() and (gamma <= GAMMA_RANGE[1]).all()
    diagonal = torch.diagonal(matrix, dim1=1, dim2=2)
    g = diagonal.max(1).values / (1 + DIAGONAL_BOUND)  # the gain is at least this
    assert (g >= GAIN_RANGE[0] * (1 - DIAGONAL_BOUND) / (1 + DIAGONAL_BOUND) - 1e-6).all()
    assert (diagonal.max(1).values <= GAIN_RANGE[1] * (1 + DIAGONAL_BOUND) + 1e-4).all()
    # Every row sums to at least 0.25·g: a non-negative grey pixel never maps to black.
    worst_row = 1 - DIAGONAL_BOUND + 2 * OFFDIAGONAL_RANGE[0]
    assert worst_row >= 0.25 - 1e-9
    assert (diagonal > 0).all() and (matrix.sum(2) >= worst_row * g[:, None] - 1e-5).all()
    grey = torch.full((raw.shape[0], 3, 1), 0.2)
    assert ((matrix @ grey) > 0).all()


def test_identity_bias_gives_gamma_one_and_the_identity_matrix():
    params = bounded_globals(identity_bias()[None])
    torch.testing.assert_close(params[0], torch.tensor([1.0, 1, 0, 0, 0, 1, 0, 0, 0, 1]), atol=1e-6, rtol=0)


def test_maps_are_bounded_for_any_weights():
    torch.manual_seed(0)
    model = BoundedIATStudent(scale_factor=1)
    for p in model.parameters():
        p.data.normal_(0, 3)  # far from any trained state
    with torch.no_grad():
        mul, add, params = model.predict(torch.rand(2, 3, 20, 28))
    assert (mul >= 0).all() and (add >= 0).all() and (add <= 1).all() and torch.isfinite(params).all()
    with torch.no_grad():
        beta = model.estimate(torch.rand(2, 3, 20, 28))[0][:, 6:]
    assert (beta >= 0).all() and (beta <= SMOOTHING_MAX).all()


@needs_shipped
def test_shipped_student_presmooths_where_it_amplifies_noise_only():
    # β follows the amplified noise: a very dark frame (gain ~10) is pre-smoothed fully, a bright one (the same
    # sensor noise, 2.5 codes, at a gain near 1) at most by the sensor-noise ramp's first part (g·σ below 4 codes).
    model = create_model("iat_student", scale_factor=1)
    night = night_scene(96, 128, seed=6)[:, :, ::-1] / np.float32(255)
    bright = night_scene(96, 128, seed=6, exposure=0.8)[:, :, ::-1] / np.float32(255)
    dark, day = (
        torch.from_numpy(np.ascontiguousarray(f.transpose(2, 0, 1)))[None].clamp(0, 1) for f in (night * 0.3, bright)
    )

    def ramp(v: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
        return ((v - lo) / (hi - lo)).clamp(0, 1)

    betas, gains = [], []
    for frame in (dark, day):
        with torch.no_grad():
            maps, params = model.estimate(frame)
        gain = noise_gain(frame, maps, params)
        sigma, ratio = frame_noise(frame)
        (low, high), (rho_low, rho_high) = SMOOTHING_SENSOR
        by_sensor = ramp(gain * sigma, low, high) * ramp(ratio, rho_low, rho_high)
        by_noise = torch.maximum(ramp(gain, *SMOOTHING_GAIN), ramp(gain * sigma, *SMOOTHING_NOISE))
        torch.testing.assert_close(maps[:, 6:], SMOOTHING_MAX * torch.maximum(by_noise, by_sensor))
        betas.append(maps[:, 6:])
        gains.append(gain)
    assert gains[0].median() > SMOOTHING_GAIN[0] and gains[1].max() < SMOOTHING_GAIN[0]
    assert betas[0].median() > 0.25
    assert betas[1].max() < 0.5 * SMOOTHING_MAX and betas[1].max() < betas[0].median()


def _noisy(frame: torch.Tensor, sigma_codes: float, seed: int) -> torch.Tensor:
    """frame plus grey Gaussian noise (the same in R, G, B, so its luma's σ is sigma_codes)."""
    generator = torch.Generator().manual_seed(seed)
    n, _, h, w = frame.shape
    return frame + torch.randn((n, 1, h, w), generator=generator) * sigma_codes / 255


def _sigma(frame: torch.Tensor, statistic: str = "min") -> float:
    return frame_noise(frame, statistic)[0].item()


def test_frame_noise_measures_the_sigma_and_ignores_texture_in_a_few_tiles():
    flat = torch.full((1, 3, 96, 128), 0.3)
    assert _sigma(flat) < 1e-3
    for sigma in (1.0, 4.0):
        noisy = _noisy(flat, sigma, seed=1)
        assert _sigma(noisy, "median") == pytest.approx(sigma, rel=0.1)
        assert 0.75 * sigma < _sigma(noisy, "min") < sigma  # the flattest of 16 tiles reads a little low
    # strong texture (a fine checkerboard) over 3 of the 16 tiles raises their figures, not the frame's
    textured = flat.clone()
    textured[..., :24, :96] += 0.2 * ((torch.arange(96)[None] + torch.arange(24)[:, None]) % 2)
    noisy = _noisy(textured, 2.0, seed=2)
    assert _sigma(noisy, "median") == pytest.approx(2.0, rel=0.1)
    assert 1.5 < _sigma(noisy, "min") < 2.0
    # ... which a mean over the frame would not ignore
    assert _sigma(noisy[..., :24, :96]) > 10


def test_frame_noise_ratio_tells_sensor_noise_from_what_all_channels_share():
    # Noise drawn per channel is averaged down by the luma: a channel's σ over the luma's is 1/sqrt(Σ w²) ≈ 1.5;
    # the same noise in every channel (or a texture they share) leaves it at 1. Per frame of a batch; tiles of 48×64
    # (at 24×32 the flattest tile's luma σ, the least of 16 noisy estimates, reads low enough to push ρ to 1.8).
    flat = torch.full((2, 3, 192, 256), 0.3)
    generator = torch.Generator().manual_seed(4)
    independent = flat + torch.randn(flat.shape, generator=generator) * 3 / 255
    shared = _noisy(flat, 3.0, seed=5)
    expected = 1 / torch.tensor(LUMA_WEIGHTS).square().sum().sqrt().item()
    for statistic in ("min", "median"):
        ratio = frame_noise(torch.cat([independent[:1], shared[:1]]), statistic)[1].flatten()
        # the largest of three channel estimates over the flattest luma reads a little high
        assert expected * 0.95 < ratio[0].item() < expected * 1.15
        assert ratio[1].item() == pytest.approx(1.0, abs=1e-3)
    # a checkerboard the same in R, G and B under the independent noise pulls the ratio of its tiles towards 1
    textured = independent.clone()
    textured[..., :48, :] += 0.2 * ((torch.arange(256)[None] + torch.arange(48)[:, None]) % 2)
    assert frame_noise(textured[..., :48, :])[1].max().item() < 1.1
    assert frame_noise(textured)[1].min().item() > expected * 0.95


@needs_shipped
def test_shipped_student_presmooths_a_noisy_frame_more_than_the_same_frame_clean():
    # Where the gain alone leaves β low (a frame only dim), its noise σ raises it: the amplified noise g·σ decides.
    model = create_model("iat_student", scale_factor=1)
    night = night_scene(96, 128, seed=6)[:, :, ::-1] / np.float32(255)
    dim = torch.from_numpy(np.ascontiguousarray(night.transpose(2, 0, 1)))[None] * 1.5
    smooth = torch.nn.functional.avg_pool2d(dim, 3, 1, 1, count_include_pad=False)  # its own noise mostly gone
    noisy = _noisy(smooth, 6.0, seed=3).clamp(0, 1)
    with torch.no_grad():
        smooth_maps, smooth_params = model.estimate(smooth)
        noisy_maps, _ = model.estimate(noisy)
    gain = noise_gain(smooth, smooth_maps, smooth_params)
    assert gain.median() < SMOOTHING_GAIN[1]  # the gain alone would not smooth fully
    assert _sigma(smooth) * gain.median() < SMOOTHING_NOISE[0] < _sigma(noisy) * gain.median()
    assert noisy_maps[:, 6:].mean() > smooth_maps[:, 6:].mean() + 0.2


@needs_shipped
def test_shipped_student_presmooths_sensor_noise_more_than_grey_noise_of_the_same_luma_sigma():
    # The same dim frame, the same luma noise (1 code): drawn per channel (a sensor's, ρ ≈ 1.5) it is pre-smoothed,
    # drawn once for all channels (ρ ≈ 1, as texture or a JPEG's chroma) it is left as it is.
    model = create_model("iat_student", scale_factor=1)
    night = night_scene(96, 128, seed=6)[:, :, ::-1] / np.float32(255)
    dim = torch.from_numpy(np.ascontiguousarray(night.transpose(2, 0, 1)))[None] * 1.5
    smooth = torch.nn.functional.avg_pool2d(dim, 3, 1, 1, count_include_pad=False)
    generator = torch.Generator().manual_seed(7)
    grey = _noisy(smooth, 1.0, seed=7).clamp(0, 1)
    per_channel = 1.0 / torch.tensor(LUMA_WEIGHTS).square().sum().sqrt()  # the channel σ whose luma σ is 1 code
    sensor = (smooth + torch.randn(smooth.shape, generator=generator) * per_channel / 255).clamp(0, 1)
    (grey_sigma, grey_ratio), (sensor_sigma, sensor_ratio) = frame_noise(grey), frame_noise(sensor)
    assert sensor_sigma.item() == pytest.approx(grey_sigma.item(), rel=0.15)
    assert grey_ratio.item() < SMOOTHING_SENSOR[1][0] < SMOOTHING_SENSOR[1][1] < sensor_ratio.item()
    with torch.no_grad():
        grey_maps, grey_params = model.estimate(grey)
        sensor_maps, _ = model.estimate(sensor)
    gain = noise_gain(grey, grey_maps, grey_params)
    assert (gain * grey_sigma).median() < SMOOTHING_NOISE[0]  # the ramp on g·σ alone leaves both frames
    assert grey_maps[:, 6:].max() == 0
    assert sensor_maps[:, 6:].mean() > 0.2


def test_llies_student_takes_unit_input_only():
    with pytest.raises(ValueError, match=r"takes \[0, 1\] input"):
        create_model("iat_student", input_range="signed")


def test_default_is_llies_student_and_reference_the_published_layout(tmp_path):
    assert type(create_model("iat_student")) is BoundedIATStudent
    assert SPEC.params == sum(p.numel() for p in BoundedIATStudent().parameters())
    assert sum(p.numel() for p in IATStudent().parameters()) == 43_504
    published = create_model("iat_student", weights="reference")
    assert type(published) is IATStudent
    assert (published.scale_factor, published.input_range) == (1, "signed")
    # The layout follows the file's keys wherever it lies, under any name.
    copy = tmp_path / "student.pth"
    shutil.copy(shared_path("weights", "reference", "iat_student.pth"), copy)
    assert type(create_model("iat_student", weights=copy)) is IATStudent


@needs_shipped
def test_shipped_weights_load_strictly_with_the_registry_defaults():
    model = create_model("iat_student")
    assert type(model) is BoundedIATStudent
    assert (model.scale_factor, model.input_range) == (SHIPPED_SCALE, "unit") == (1, "unit")
    state = torch.load(SHIPPED, map_location="cpu", weights_only=True)
    assert set(state) == set(model.state_dict())


def _frames() -> dict[str, np.ndarray]:
    """RGB float32 frames in [0, 1], 96×128: what a camera can hand the node, down to degenerate ones."""
    h, w = 96, 128
    night = night_scene(h, w, seed=2)[:, :, ::-1] / np.float32(255)
    day = night_scene(h, w, seed=3, exposure=1.0)[:, :, ::-1] / np.float32(255)
    yy, xx = np.mgrid[0:h, 0:w] / np.float32(w)
    texture = (0.5 + 0.5 * np.sin(20 * xx) * np.cos(15 * yy))[..., None].astype(np.float32)
    frames = {
        "night": night,
        "very_dark": night * np.float32(0.25),
        "day": day,
        "bright": np.clip(0.55 + 0.4 * texture * np.array([1.0, 0.9, 0.8], np.float32), 0, 1),
        "saturated": np.clip(day * 3.0, 0, 1),
        "noise": np.random.default_rng(0).random((h, w, 3), dtype=np.float32),
    }
    for name, level in (("black", 0.0), ("grey", 0.5), ("white", 1.0)):
        frames[name] = np.full((h, w, 3), level, np.float32)
    for name, colour in (("red", (1, 0, 0)), ("green", (0, 1, 0)), ("blue", (0, 0, 1)), ("yellow", (1, 1, 0))):
        frames[name] = np.broadcast_to(np.array(colour, np.float32), (h, w, 3)).copy()
        frames[f"{name}_textured"] = frames[name] * (0.3 + 0.7 * texture)
    return frames


def _failures(enhancer) -> list[str]:
    """What goes wrong on ``_frames`` as 8-bit BGR: collapsed (mean < 0.02 where the input's > 0.05), a lit channel
    zeroed, out of range, or a bright frame with content blown out or flattened."""
    failures = []
    for name, rgb in _frames().items():
        bgr = np.round(rgb[:, :, ::-1] * 255).astype(np.uint8)
        out = enhancer.enhance(bgr)[:, :, ::-1].transpose(2, 0, 1) / np.float32(255)  # RGB C×H×W
        assert out.shape == (3, *rgb.shape[:2]), name
        if rgb.mean() > 0.05 and out.mean() < 0.02:
            failures.append(f"{name}: collapsed to mean {out.mean():.4f}")
        lit = rgb.mean(axis=(0, 1)) > 0.05
        channel_means = out.mean(axis=(1, 2))
        if not (channel_means[lit] > 0.01).all():
            failures.append(f"{name}: channel zeroed, means {channel_means}")
        luma_std = rgb.mean(axis=2).std()
        if rgb.mean() > 0.5 and luma_std > 0.05:  # a bright frame with content keeps it
            white_in, white_out = (rgb.min(axis=2) >= 0.99).mean(), (out.min(axis=0) >= 0.99).mean()
            if white_out > white_in + 0.2:
                failures.append(f"{name}: blown out, white {white_in:.2f} -> {white_out:.2f}")
            if out.mean(axis=0).std() <= 0.5 * luma_std:
                failures.append(f"{name}: flattened")
    return failures


@needs_shipped
@pytest.mark.parametrize("options", [{}, {"scale_factor": 1}, {"scale_factor": 8}], ids=["card", "s1", "s8"])
def test_shipped_student_never_collapses(options):
    # What ships: the engine (ONNX estimator, compiled apply) on 8-bit BGR frames, at the card's operating point
    # (96×128 frames: s = 1), at s = 1 and at s = 8 (what a 1080p frame gets).
    enhancer = create_enhancer("iat_student", threads=1, **options)
    assert enhancer.backend == "onnxruntime"
    assert _failures(enhancer) == []


def test_the_published_student_fails_the_same_frames():
    # The checks can fail: the published student zeroes channels of bright, grey and coloured frames and
    # collapses on pure blue (its colour matrix turns negative).
    shared_path("weights", "reference", "iat_student.pth")  # skips without the shared folder
    failures = _failures(create_enhancer("iat_student", backend="torch", weights="reference", threads=1))
    assert any(f.startswith("blue: collapsed") for f in failures)
    assert any(f.startswith("white: channel zeroed") for f in failures)


@needs_shipped
def test_shipped_globals_do_not_depend_on_the_estimation_resolution():
    # The global head reads a fixed thumbnail, so the frame and its 1/8 downscale get the same gamma and matrix.
    import torch.nn.functional as F

    rgb = night_scene(270, 480, seed=4)[:, :, ::-1] / np.float32(255)
    x = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
    model = create_model("iat_student", scale_factor=1)
    with torch.no_grad():
        _, full = model.estimate(x)
        _, low = model.estimate(F.interpolate(x, size=(34, 60), mode="bilinear", align_corners=False))
    assert (full - low).abs().max() < 0.05


@needs_shipped
def test_shipped_card_and_onnx_estimator_agree_with_the_checkpoint():
    import onnxruntime as ort
    import yaml

    # Checksums: test_shipped_weights (every shipped network); here what is particular to this card and graph.
    card = yaml.safe_load(SPEC.default_weights(".yaml").read_text())
    assert (card["default_scale_factor"], card["max_estimation_side"]) == (SHIPPED_SCALE, SHIPPED_SIDE) == (1, 256)
    engine = create_enhancer("iat_student")
    assert (engine.scale_factor_for(1080, 1920), engine.scale_factor_for(341, 512)) == (8, 2)
    assert card["losses"]["teacher"]["weights"] == "reference:lol_v2"
    onnx_path = SPEC.default_weights(".onnx")
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(1)
    night = night_scene(135, 240, seed=5)[:, :, ::-1] / np.float32(255)
    images = [night, *(rng.random((*hw, 3), dtype=np.float32) for hw in [(1, 1), (7, 13), (50, 70)])]
    assert_estimator_graph_matches(session, create_model("iat_student"), images)


def test_export_writes_the_bounded_head(tmp_path):
    # Whatever the weights, the exported estimator keeps the bounds (they are part of the graph).
    import onnxruntime as ort

    from llie_core.export import export_onnx

    torch.manual_seed(3)
    model = BoundedIATStudent(scale_factor=1)
    for p in model.parameters():
        p.data.normal_(0, 0.5)
    model.eval()
    session = ort.InferenceSession(export_onnx(model, graph="estimator"), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(2).random((3, 3, 40, 52), dtype=np.float32)
    maps, params = session.run(None, {"image": x})
    with torch.no_grad():
        ref_maps, ref_params = model.estimate(torch.from_numpy(x))
    # Random weights amplify float rounding (log2 included): 1e-3 here, 1e-4 for the shipped weights.
    np.testing.assert_allclose(params, ref_params.numpy(), atol=1e-3)
    np.testing.assert_allclose(maps, ref_maps.numpy(), atol=1e-3, rtol=1e-3)
    assert (params[:, 0] >= GAMMA_RANGE[0]).all() and (params[:, 0] <= GAMMA_RANGE[1]).all()
    assert (params[:, 1:].reshape(-1, 3, 3).sum(2) > 0).all()
