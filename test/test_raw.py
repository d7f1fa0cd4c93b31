"""RAW Bayer frames end to end: packing kernels, amplification, LLPackNet in the engine, RAW files, streams."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from llie_core import raw_kernels
from llie_core.amplification import GREEN_TARGET, MAX_AMPLIFICATION, auto_expose, estimate_amplification
from llie_core.bayer import BAYER_PATTERNS, RawFrame, canonical_offset, mosaic, normalise, rggb_planes
from llie_core.imgmsg import FrameError, array_to_image_fields, decode_msg, image_msg_to_array
from llie_core.noise import NoiseRegime, inverse_smoothstep, keyed_rng, srgb_to_linear, to_raw
from llie_core.raw_eval import EXPOSURE_GAIN, RAW_REGIMES, evaluation_camera
from llie_core.registry import get_spec
from llie_core.stream import FixedModel, StreamProcessor, StreamSettings

RNG = np.random.default_rng(0)


def _reference_pack(raw: RawFrame, amplification: float) -> np.ndarray:
    """np.pad (mirror) to the canonical RGGB layout and multiples of 16, planes, per-colour space-to-depth by 8."""
    geo = raw_kernels.geometry(*raw.shape, raw.pattern)
    height, width = geo.output_size
    pad = ((geo.dy, height - raw.shape[0] - geo.dy), (geo.dx, width - raw.shape[1] - geo.dx))
    planes = rggb_planes(normalise(np.pad(raw.data, pad, mode="reflect"), raw.black_level, raw.white_level, 3.0))
    hq, wq = geo.padded
    assert amplification == 3.0
    return planes.reshape(4, hq, 8, wq, 8).transpose(0, 2, 4, 1, 3).reshape(256, hq, wq)


@pytest.mark.parametrize("pattern", list(BAYER_PATTERNS))
@pytest.mark.parametrize(("height", "width"), [(37, 50), (32, 48), (2, 2)])
def test_pack_reads_every_pattern_as_rggb_through_a_mirror_border(pattern: str, height: int, width: int) -> None:
    raw = RawFrame(RNG.integers(0, 4096, (height, width)).astype(np.uint16), pattern, 256, 4095)
    packed, geo = raw_kernels.pack(raw, 3.0)
    np.testing.assert_allclose(packed, _reference_pack(raw, 3.0), atol=1e-6)
    numpy_version = np.empty_like(packed)
    raw_kernels._pack_numpy(raw.data, geo.dy, geo.dx, np.float32(256), np.float32(3.0 / 3839), numpy_version)
    np.testing.assert_allclose(packed, numpy_version, atol=1e-6)
    # A flat colour per site: every pattern's R, G1, G2, B planes read the R, G, G, B sites.
    flat = mosaic(np.broadcast_to(np.array([1000, 2000, 3000], np.uint16), (height, width, 3)), pattern)
    packed, _ = raw_kernels.pack(RawFrame(flat, pattern, 0, 4095), 1.0)
    levels = [np.unique(np.rint(packed[p * 64 : (p + 1) * 64] * 4095)).tolist() for p in range(4)]
    assert levels == [[1000], [2000], [2000], [3000]]


def test_pack_levels_clip_and_binning() -> None:
    data = np.array([[0, 300], [4095, 200]], np.uint16).repeat(8, 0).repeat(8, 1)  # 16×16, blocks of 8
    packed, _ = raw_kernels.pack(RawFrame(data, "RGGB", 200, 4095), 10.0)
    # below black stays negative (read noise), black is 0, 300 → 100·10/3895, 4095 (×10) clips at 1
    np.testing.assert_allclose(np.unique(packed), [-200 * 10 / 3895, 0.0, 100 * 10 / 3895, 1.0], rtol=1e-6)
    with pytest.raises(ValueError, match="amplification must be a positive number"):
        raw_kernels.pack(RawFrame(data, "RGGB", 0, 4095), 0.0)
    # Binning by 2 averages 2×2 same-colour sites of each plane.
    raw = RawFrame(RNG.integers(0, 4096, (64, 64)).astype(np.uint16), "RGGB", 0, 4095)
    binned, geo = raw_kernels.pack(raw, 1.0, scale=2)
    assert geo.planes == (16, 16) and binned.shape == (256, 2, 2)
    red = raw.data[0::2, 0::2].astype(np.float64)
    assert binned[0, 0, 0] == pytest.approx(red[:2, :2].mean() / 4095, abs=1e-6)


@pytest.mark.parametrize("pattern", list(BAYER_PATTERNS))
@pytest.mark.parametrize("scale", [2, 3])
def test_compiled_binning_matches_numpy(pattern: str, scale: int) -> None:
    raw = RawFrame(RNG.integers(0, 4096, (37, 50)).astype(np.uint16), pattern, 64, 4095)
    geo = raw_kernels.geometry(37, 50, pattern, scale)
    expected = np.empty((2 * geo.planes[0], 2 * geo.planes[1]), np.float32)
    raw_kernels._bin_numpy(raw.data, geo.dy, geo.dx, scale, expected)
    assert np.array_equal(raw_kernels._binned(raw, geo), expected)


@pytest.mark.parametrize("pattern", ["RGGB", "GBRG"])
@pytest.mark.parametrize("scale", [1, 3])
def test_unpack_is_depth_to_space_cropped_to_the_frame(pattern: str, scale: int) -> None:
    geo = raw_kernels.geometry(37, 50, pattern, scale)
    maps = RNG.random((192, *(2 * n for n in geo.padded)), dtype=np.float32)
    rgb, bgr = raw_kernels.unpack(maps, geo), raw_kernels.unpack(maps, geo, bgr=True)
    assert rgb.shape == (37, 50, 3) and rgb.dtype == np.uint8 and np.array_equal(rgb, bgr[:, :, ::-1])
    if scale == 1:
        h8, w8 = maps.shape[1:]
        full = maps.reshape(3, 8, 8, h8, w8).transpose(3, 1, 4, 2, 0).reshape(8 * h8, 8 * w8, 3)
        dy, dx = canonical_offset(pattern)
        assert np.abs(rgb / 255.0 - full[dy : dy + 37, dx : dx + 50]).max() <= 0.5 / 255 + 1e-6
        numpy_version = np.empty_like(rgb)
        raw_kernels._unpack_numpy(maps, dy, dx, False, 255.0, 0.5, numpy_version)
        assert np.array_equal(rgb, numpy_version)
    # uint8 codes (the int8 graph's output) are the 8-bit values: moved as they are
    codes = (maps * np.float32(255) + np.float32(0.5)).astype(np.uint8)
    assert np.array_equal(raw_kernels.unpack(codes, geo), rgb)
    assert np.array_equal(raw_kernels.unpack(codes, geo, bgr=True), bgr)
    with pytest.raises(ValueError, match="expected 192×h×w"):
        raw_kernels.unpack(maps[:3], geo)


def test_raw_frame_validation() -> None:
    with pytest.raises(ValueError, match="H×W uint8/uint16 mosaic"):
        RawFrame(np.zeros((4, 4, 3), np.uint8), "RGGB", 0, 255)
    with pytest.raises(ValueError, match="unknown Bayer pattern 'RGBG'"):
        RawFrame(np.zeros((4, 4), np.uint8), "RGBG", 0, 255)
    with pytest.raises(ValueError, match="0 <= black_level < white_level <= 255"):
        RawFrame(np.zeros((4, 4), np.uint8), "RGGB", 16, 300)


def test_amplification_recovers_the_ratio_of_an_auto_exposed_grey_scene() -> None:
    # A grey reference at the metering target through an evaluation camera: its raw green is the grey's linear
    # value (through the inverse tone curve) over the camera's rendering gain, whatever the white balance.
    grey = auto_expose(np.full((96, 128, 3), 90, np.uint8))
    green = srgb_to_linear(inverse_smoothstep(grey[0, 0, 1] / 255.0)) / EXPOSURE_GAIN
    for ratio in (16.0, 100.0, 300.0):
        rng = np.random.default_rng(int(ratio))
        regime = NoiseRegime("test", ratio, full_well=16000.0, read_sigma=3.0, bit_depth=14)
        raw = to_raw(grey, regime, rng, evaluation_camera(rng), pattern="GBRG")
        expected = ratio * GREEN_TARGET / green
        assert estimate_amplification(raw) == pytest.approx(expected, rel=0.05)
    black = RawFrame(np.full((32, 32), 64, np.uint16), "RGGB", 64, 1023)
    assert estimate_amplification(black) == MAX_AMPLIFICATION
    bright = RawFrame(np.full((32, 32), 1000, np.uint16), "RGGB", 64, 1023)
    assert estimate_amplification(bright) == 1.0


def test_amplification_within_25_percent_on_held_out_images() -> None:
    from conftest import shared_path

    from llie_core.raw_eval import held_out_images, make_sample

    files = held_out_images(shared_path("data", "detect", "highway_dev"), max_images=10)
    for regime in RAW_REGIMES.values():
        ratios = [estimate_amplification(make_sample(path, regime).raw) / regime.ratio for path in files]
        assert np.mean(np.abs(np.asarray(ratios) - 1) <= 0.25) >= 0.9, (regime.name, ratios)


@pytest.fixture(scope="module")
def llpacknet_weights(tmp_path_factory) -> Path:
    """A seeded random LLPackNet checkpoint (the engine's numbers do not depend on training)."""
    torch = pytest.importorskip("torch")
    from llie_core.models import create_model

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("llpacknet") / "llpacknet.pth"
    torch.save(create_model("llpacknet").state_dict(), path)
    return path


def _raw_frame(height: int = 48, width: int = 80, pattern: str = "GRBG", seed: int = 1) -> RawFrame:
    rng = np.random.default_rng(seed)
    scene = RNG.integers(30, 220, (height, width, 3), dtype=np.uint8)
    return to_raw(scene, RAW_REGIMES["raw100"], rng, evaluation_camera(rng), pattern)


def test_llpacknet_parameters_forward_and_export(llpacknet_weights: Path) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    import onnxruntime as ort

    from llie_core.export import export_onnx
    from llie_core.models import create_model
    from llie_core.models.llpacknet import pixel_shuffle_channels_last

    model = create_model("llpacknet", weights=llpacknet_weights)
    assert sum(p.numel() for p in model.parameters()) == get_spec("llpacknet").params == 1_169_088
    for factor in (2, 3):
        x = torch.rand(2, 4 * factor**2, 5, 7)
        assert torch.equal(pixel_shuffle_channels_last(x, factor), torch.nn.functional.pixel_shuffle(x, factor))
    planes = torch.rand(1, 4, 24, 40)
    with torch.inference_mode():
        out = model(planes)
    assert out.shape == (1, 3, 48, 80) and 0 < float(out.min()) and float(out.max()) < 1
    with pytest.raises(ValueError, match="multiples of 8"):
        model(torch.rand(1, 4, 20, 40))
    session = ort.InferenceSession(export_onnx(model, graph="estimator"), providers=["CPUExecutionProvider"])
    packed = torch.nn.functional.pixel_unshuffle(planes, 8)
    (ours,) = session.run(None, {session.get_inputs()[0].name: packed.numpy()})
    with torch.inference_mode():
        np.testing.assert_allclose(ours, model.estimate(packed).numpy(), atol=1e-5)
    full = ort.InferenceSession(export_onnx(model, graph="full"), providers=["CPUExecutionProvider"])
    (image,) = full.run(None, {"planes": planes.numpy()})
    np.testing.assert_allclose(image, out.numpy(), atol=1e-5)


def test_raw_enhancer_backends_agree_and_take_raw_frames_only(llpacknet_weights: Path) -> None:
    pytest.importorskip("torch")
    from llie_core.engine import RawEnhancer, create_enhancer

    onnx = create_enhancer("llpacknet", backend="onnxruntime", weights=llpacknet_weights, threads=1)
    eager = create_enhancer("llpacknet", backend="torch", weights=llpacknet_weights, threads=1)
    assert isinstance(onnx, RawEnhancer) and onnx.takes_raw and onnx.kind == "network"
    raw = _raw_frame()
    out = onnx.enhance(raw)
    assert out.shape == (48, 80, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - eager.enhance(raw)).max() <= 1
    assert np.array_equal(onnx.enhance(raw, rgb=True), out[:, :, ::-1])
    assert onnx.estimate(raw) == estimate_amplification(raw)
    assert np.array_equal(onnx.apply(raw, onnx.estimate(raw)), out)
    fixed = create_enhancer("llpacknet", weights=llpacknet_weights, amplification=40.0)
    assert fixed.estimate(raw) == 40.0 and not np.array_equal(fixed.enhance(raw), eager.enhance(raw))
    assert len(onnx.enhance_batch([raw, _raw_frame(32, 32, "RGGB")])) == 2
    with pytest.raises(TypeError, match="takes RAW Bayer frames"):
        onnx.enhance(np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(TypeError, match="frame 1 is an array of shape"):
        onnx.enhance_batch([raw, np.zeros((32, 32), np.uint16)])
    with pytest.raises(ValueError, match=r"amplification must be a number in \[1, 1000\]"):
        create_enhancer("llpacknet", weights=llpacknet_weights, amplification=0.5)
    with pytest.raises(TypeError, match="valid: \\['max_estimation_side', 'scale_factor', 'threads'\\]"):
        create_enhancer("tiny_dce", amplification=10.0)
    binned = create_enhancer("llpacknet", weights=llpacknet_weights, scale_factor=2)
    assert binned.enhance(raw).shape == (48, 80, 3) and binned.scale_factor_for(1080, 1920) == 2


def test_llpacknet_fast_is_a_lighter_topology_whose_backends_agree(tmp_path: Path) -> None:
    """The registry's lighter RAW model: its own parameter count and graph name, torch and onnxruntime agreeing."""
    torch = pytest.importorskip("torch")
    from llie_core.engine import create_enhancer
    from llie_core.engine.onnx_backend import OrtEstimator
    from llie_core.export import export_onnx
    from llie_core.models import create_model

    torch.manual_seed(1)
    model = create_model("llpacknet_fast", weights=None)
    assert sum(p.numel() for p in model.parameters()) == get_spec("llpacknet_fast").params == 503_488
    assert [len(b.dense) for b in model.blocks] == [3, 3, 3] and len(model.fine.dense) == 2
    weights = tmp_path / "fast.pth"
    torch.save(model.state_dict(), weights)
    graph = tmp_path / "fast.onnx"
    export_onnx(model, graph, graph="estimator")
    with pytest.raises(ValueError, match="holds model 'llpacknet_fast', not 'llpacknet'"):
        OrtEstimator(graph, "llpacknet")
    onnx = create_enhancer("llpacknet_fast", backend="onnxruntime", weights=graph, threads=1)
    eager = create_enhancer("llpacknet_fast", backend="torch", weights=weights, threads=1)
    raw = _raw_frame()
    assert np.abs(onnx.enhance(raw).astype(int) - eager.enhance(raw)).max() <= 1


def test_init_from_copies_the_teachers_coinciding_layers() -> None:
    """training.llpacknet.init_from: the same topology is copied whole; a lighter one takes the first layers of each
    dense block (their first outputs when its growth is smaller) and the fusions' columns of the inputs it keeps."""
    torch = pytest.importorskip("torch")
    from llie_core.models.llpacknet import TOPOLOGIES, LLPackNet
    from training.llpacknet import init_from

    torch.manual_seed(2)
    teacher = LLPackNet()
    same = LLPackNet()
    init_from(same, teacher)
    ours, theirs = same.state_dict(), teacher.state_dict()
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
    fast = LLPackNet(**TOPOLOGIES["llpacknet_fast"])
    init_from(fast, teacher)
    assert torch.equal(fast.blocks[2].dense[2].weight, teacher.blocks[2].dense[2].weight)
    assert torch.equal(fast.blocks[1].fuse.weight, teacher.blocks[1].fuse.weight[:, : 64 + 3 * 32])
    assert torch.equal(fast.fuse.weight, teacher.fuse.weight) and torch.equal(fast.to_rgb.bias, teacher.to_rgb.bias)
    narrow = LLPackNet(blocks=2, fine_layers=2, fine_growth=16)
    init_from(narrow, teacher)
    assert torch.equal(narrow.fuse.weight, teacher.fuse.weight[:, :128])
    # fine layer 1 sees the block input (16) and layer 0's first 16 of 32 outputs
    assert torch.equal(narrow.fine.dense[1].weight, teacher.fine.dense[1].weight[:16, :32])
    kept = [*range(16), *range(16, 32), *range(48, 64)]  # fusion: input, layer 0's and layer 1's first 16 outputs
    assert torch.equal(narrow.fine.fuse.weight, teacher.fine.fuse.weight[:, kept])


class FakeRaw:
    """A RAW model stand-in: the mosaic's mean level × amplification as a grey sRGB frame."""

    name, backend, kind, takes_raw = "fakeraw", "numpy", "network", True

    def estimate(self, frame: RawFrame, rgb: bool = False) -> float:
        return 8.0 if frame.mean_level() < 0.02 else 2.0

    def apply(self, frame: RawFrame, estimate: float, rgb: bool = False) -> np.ndarray:
        level = np.clip(frame.mean_level() * estimate * 255, 0, 255)
        return np.full((*frame.shape, 3), round(level), np.uint8)

    def enhance(self, frame: RawFrame, rgb: bool = False) -> np.ndarray:
        return self.apply(frame, self.estimate(frame), rgb)


def test_stream_processor_gives_mosaics_to_raw_models_and_demosaics_for_the_rest() -> None:
    mosaic16 = np.full((8, 8), 1000 + 16, np.uint16)  # 12-bit data in a 16-bit topic, black 1000, white 4095
    settings = StreamSettings(smoothing=0.5, auto_gate=True, raw_black_level=1000, raw_white_level=4095)
    processor = StreamProcessor(FixedModel(FakeRaw()), settings)
    frame = processor.process(mosaic16, "bayer_rggb16")
    assert frame.enhanced and frame.encoding == "rgb8" and frame.curve_mean == [8.0]
    assert frame.input_luminance == pytest.approx(16 / 3095) and frame.array.shape == (8, 8, 3)
    frame = processor.process(np.full((8, 8), 1000 + 100, np.uint16), "bayer_rggb16")
    assert frame.curve_mean == [pytest.approx(0.5 * 8 + 0.5 * 2)]  # the amplification is what is smoothed
    gated = processor.process(np.full((8, 8), 4000, np.uint16), "bayer_rggb16")
    assert gated.gated and gated.encoding == "bgr8" and gated.array.dtype == np.uint8  # demosaiced at the levels
    assert gated.array.min() == round((4000 - 1000) * 255 / 3095)
    with pytest.raises(FrameError, match="fakeraw takes RAW Bayer frames"):
        processor.process(np.zeros((8, 8, 3), np.uint8), "bgr8")
    processor.configure(StreamSettings(raw_black_level=5000, raw_white_level=4095))
    with pytest.raises(FrameError, match="raw_black_level, raw_white_level"):
        processor.process(mosaic16, "bayer_rggb16")
    # Any other model: the mosaic demosaiced into bgr8, as the decoder does for it.
    from llie_core.engine import create_enhancer

    other = StreamProcessor(FixedModel(create_enhancer("gamma")), StreamSettings(auto_gate=False))
    frame = other.process(mosaic16, "bayer_rggb16")
    assert frame.encoding == "bgr8" and frame.array.shape == (8, 8, 3) and frame.enhanced


def test_imgmsg_bayer16_mosaic_and_demosaic() -> None:
    codes = RNG.integers(0, 65536, (6, 8), dtype=np.uint16)
    msg = SimpleNamespace(
        header=None, height=6, width=8, encoding="bayer_gbrg16", is_bigendian=1, step=16, data=codes.astype(">u2")
    )
    array, encoding = image_msg_to_array(msg, mosaic=True)
    assert encoding == "bayer_gbrg16" and np.array_equal(array, codes)
    bgr, encoding = image_msg_to_array(msg)
    assert encoding == "bgr8" and bgr.shape == (6, 8, 3)
    assert np.array_equal(bgr, RawFrame(codes, "GBRG", 0, 65535).to_bgr8())
    assert decode_msg(msg, mosaic=True)[1:] == ("bayer_gbrg16", "bayer_gbrg16")
    # Publishing in a 16-bit Bayer encoding re-mosaics a BGR frame at full scale.
    fields = array_to_image_fields(np.full((6, 8, 3), (10, 20, 30), np.uint8), "bayer_rggb16", None)
    back, _ = image_msg_to_array(SimpleNamespace(**fields), mosaic=True)
    assert fields["step"] == 16 and back[0, 0] == 30 * 257 and back[1, 1] == 10 * 257 and back[0, 1] == 20 * 257


def test_read_raw_and_llie_enhance_on_the_real_dng(tmp_path: Path, llpacknet_weights: Path) -> None:
    from conftest import shared_path

    pytest.importorskip("rawpy")
    import cv2

    from llie_core.cli import main
    from llie_core.media import read_raw

    dng = shared_path("data", "raw", "tinydng_colorchart_canon550d_ml.dng")
    raw = read_raw(dng)
    assert (raw.pattern, raw.black_level, raw.white_level, raw.shape) == ("RGGB", 2056, 15000, (1156, 1734))
    out = tmp_path / "out"
    assert main(["enhance", str(dng), "-o", str(out), "--model", "llpacknet", "--weights", str(llpacknet_weights)]) == 0
    restored = cv2.imread(str(out / "tinydng_colorchart_canon550d_ml.png"))
    assert restored.shape == (1156, 1734, 3)
    # Any other model gets the mosaic demosaiced at the file's levels.
    assert main(["enhance", str(dng), "-o", str(tmp_path / "dce"), "--model", "gamma", "--side-by-side"]) == 0
    both = cv2.imread(str(tmp_path / "dce" / "tinydng_colorchart_canon550d_ml.png"))
    assert both.shape == (1156, 2 * 1734, 3) and both[:, 1734:].mean() > both[:, :1734].mean()
    bad = tmp_path / "bad.dng"
    bad.write_bytes(b"not a raw file")
    assert main(["enhance", str(bad), "-o", str(tmp_path / "x"), "--model", "gamma"]) == 1


def test_stages_and_detect_eval_raw_path(tmp_path: Path, llpacknet_weights: Path) -> None:
    pytest.importorskip("ultralytics")
    from llie_core import detect_eval as de
    from llie_core.stages import Stage, build_stage

    stage = build_stage(f"raw=llpacknet:{llpacknet_weights}")
    assert stage.takes_raw and not build_stage("gamma").takes_raw
    with pytest.raises(ValueError, match="llpacknet takes RAW frames, so it can only start a chain"):
        build_stage(f"gamma+llpacknet:{llpacknet_weights}")
    seen: dict[str, type] = {}

    def spy(name: str, takes_raw: bool) -> Stage:
        def step(frame):
            seen[name] = type(frame)
            return frame.to_bgr8() if takes_raw else frame

        return Stage(name, (step,), takes_raw)

    import cv2

    root = tmp_path / "set"
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    cv2.imwrite(str(root / "images" / "a.png"), np.full((32, 32, 3), 120, np.uint8))
    (root / "classes.txt").write_text("thing\n")
    dataset = de.load_dataset(root, part="all")
    detector = SimpleNamespace(detect=lambda bgr: [], model_path=tmp_path, imgsz=32, conf=0.1, iou=0.7)
    stages = {"rawspy": spy("rawspy", True), "rgbspy": spy("rgbspy", False)}
    regime = [NoiseRegime("moderate", 16.0, full_well=4000.0, read_sigma=1.0)]
    with pytest.raises(ValueError, match="rawspy take RAW frames"):
        de.evaluate(dataset, detector, stages, regime, progress=False)
    results, _ = de.evaluate(dataset, detector, stages, regime, camera="random", raw=True, progress=False)
    assert seen == {"rawspy": type(to_raw(np.zeros((2, 2, 3), np.uint8), regime[0], RNG)), "rgbspy": np.ndarray}
    assert results["noise"]["raw"] and results["noise"]["bayer"] == "RGGB"


def test_raw_pairs_for_training_are_consistent() -> None:
    pytest.importorskip("torch")
    from training.config import RawConfig
    from training.llpacknet import synthesize

    clean = RNG.random((32, 48, 3))
    # No noise, no jitter, one ratio: the target is the clean image rendered back, the input its mosaic ÷ ratio × ratio.
    config = RawConfig(
        ratio_range=[50.0, 50.0], jitter_range=[1.0, 1.0], full_well_range=[1e9, 1e9], read_sigma_range=[0.0, 0.0]
    )
    config.row_sigma_range, config.bit_depths = [0.0, 0.0], [16]
    planes, target = synthesize(clean, keyed_rng(0, "pair"), config)
    assert planes.shape == (4, 16, 24) and target.shape == (3, 32, 48)
    assert np.abs(target.transpose(1, 2, 0) - np.clip(clean, 0, 1)).max() < 0.02  # the camera round trip
    assert 0 < planes.mean() < 1


@pytest.mark.parametrize(("share", "expected"), [(0.0, 300.0), (1.0, 60.0)])
def test_low_ratio_share_draws_the_ratio_from_the_low_range(
    monkeypatch: pytest.MonkeyPatch, share: float, expected: float
) -> None:
    pytest.importorskip("torch")
    import training.llpacknet as raw_training
    from training.config import RawConfig

    ratios, expose = [], raw_training.expose
    monkeypatch.setattr(raw_training, "expose", lambda *a, **k: ratios.append(a[1].ratio) or expose(*a, **k))
    config = RawConfig(ratio_range=[300.0, 300.0], low_ratio_share=share, low_ratio_range=[60.0, 60.0])
    for seed in range(4):
        raw_training.synthesize(RNG.random((16, 16, 3)), keyed_rng(seed, "share"), config)
    assert ratios == pytest.approx([expected] * 4)


def _labelled_folder(root: Path, count: int) -> Path:
    """A labelled (YOLO layout) folder of ``count`` dim 16×16 images, no objects."""
    import cv2

    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for i in range(count):
        cv2.imwrite(str(root / "images" / f"f{i:03d}.png"), (RNG.random((16, 16, 3)) * 60).astype(np.uint8))
    (root / "classes.txt").write_text("thing\n")
    return root


def test_domain_images_are_the_training_part_less_a_fixed_validation_set(tmp_path: Path) -> None:
    from llie_core.detect_eval import split_names
    from training.config import RawConfig
    from training.llpacknet import domain_images

    root = _labelled_folder(tmp_path / "road", 160)
    config = RawConfig(domain_root=str(root), domain_validation=4)
    train, validation = domain_images(config)
    held_out = set(split_names([f"f{i:03d}.png" for i in range(160)]).eval)
    names = {p.name for p in train} | {p.name for p in validation}
    assert len(train) == 6 and len(validation) == 4 and len(names) == 10  # 160 - 150 held out, 4 of them kept out
    assert not names & held_out
    assert domain_images(config) == (train, validation)  # fixed: a function of the names
    config.domain_validation = 0
    assert domain_images(config) == (sorted(train + validation), [])


def test_domain_batches_mix_each_domain_image_once_an_epoch(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from training.config import config_from_dict
    from training.engine import read_rgb
    from training.llpacknet import RawPairSampler

    files = [tmp_path / f"s{i}.png" for i in range(7)]
    domain = sorted((_labelled_folder(tmp_path / "road", 6) / "images").iterdir())
    cfg = config_from_dict(
        {"name": "mix", "model": "llpacknet", "mode": "raw", "batch_size": 4, "raw": {"domain_share": 0.5}}
    )
    sampler = RawPairSampler(files, cfg, domain)
    for epoch in range(2):
        batches = sampler.epoch_batches(epoch)
        assert all(len(b) == 4 and sum(i >= 7 for i in b) == 2 for b in batches)
        assert sorted(i for b in batches for i in b if i >= 7) == list(range(7, 13))
    assert sampler.epoch_batches(0) != sampler.epoch_batches(1)
    np.testing.assert_array_equal(sampler.read(7), auto_expose(read_rgb(domain[0])))


def test_raw_fine_tune_starts_from_init_weights(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    cv2 = pytest.importorskip("cv2")
    from llie_core.models.llpacknet import LLPackNet
    from training.config import config_from_dict
    from training.llpacknet import train_raw

    data = tmp_path / "data"
    data.mkdir()
    for i in range(2):
        cv2.imwrite(str(data / f"{i}.png"), (RNG.random((32, 32, 3)) * 255).astype(np.uint8))
    torch.manual_seed(123)
    start = tmp_path / "start.pth"
    torch.save(LLPackNet().state_dict(), start)
    cfg = config_from_dict(
        {
            "name": "ft",
            "model": "llpacknet",
            "mode": "raw",
            "epochs": 1,
            "batch_size": 2,
            "device": "cpu",
            "out_dir": str(tmp_path / "runs"),
            "init_weights": str(start),
            "data": {"root": str(data), "image_size": 32, "min_crop_fraction": 1.0},
            "optim": {"lr": 1e-9, "lr_min": 1e-9},  # a step too small to move the weights off the start
            "raw": {"mean_range": [0.0, 1.0], "low_ratio_share": 0.5},
        }
    )
    trained = torch.load(train_raw(cfg, progress=False) / "model.pth", weights_only=True)
    initial = torch.load(start, weights_only=True)
    assert all(torch.allclose(trained[k], initial[k], atol=1e-6) for k in initial)


def test_raw_distillation_starts_from_the_teacher_and_logs_its_term(tmp_path: Path) -> None:
    """raw.teacher: the lighter student starts from init_from(the shipped teacher) and its loss adds kd · L1 to it."""
    torch = pytest.importorskip("torch")
    cv2 = pytest.importorskip("cv2")
    if not get_spec("llpacknet").default_weights(".pth").is_file():
        pytest.skip("no shipped llpacknet.pth (the teacher)")
    from llie_core.models import create_model
    from llie_core.models.llpacknet import TOPOLOGIES, LLPackNet
    from training.config import config_from_dict
    from training.llpacknet import init_from, train_raw

    data = tmp_path / "data"
    data.mkdir()
    for i in range(2):
        cv2.imwrite(str(data / f"{i}.png"), (RNG.random((32, 32, 3)) * 255).astype(np.uint8))
    cfg = config_from_dict(
        {
            "name": "kd",
            "model": "llpacknet_fast",
            "mode": "raw",
            "epochs": 1,
            "batch_size": 2,
            "device": "cpu",
            "out_dir": str(tmp_path / "runs"),
            "data": {"root": str(data), "image_size": 32, "min_crop_fraction": 1.0},
            "optim": {"lr": 1e-9, "lr_min": 1e-9},  # a step too small to move the weights off the start
            "raw": {"mean_range": [0.0, 1.0], "teacher": "llpacknet", "kd": 0.5},
        }
    )
    run = train_raw(cfg, progress=False)
    expected = LLPackNet(**TOPOLOGIES["llpacknet_fast"])
    init_from(expected, create_model("llpacknet"))
    trained = torch.load(run / "model.pth", weights_only=True)
    assert all(torch.allclose(trained[k], v, atol=1e-6) for k, v in expected.state_dict().items())
    log = (run / "loss_log.csv").read_text().splitlines()
    header, row = log[0].split(","), dict(zip(log[0].split(","), log[-1].split(","), strict=True))
    assert "kd_l1" in header
    assert float(row["total"]) == pytest.approx(float(row["l1"]) + 0.5 * float(row["kd_l1"]), rel=1e-4)


def test_int8_graph_outputs_the_8_bit_values(tmp_path: Path, llpacknet_weights: Path) -> None:
    """training.quantize: the int8 graph returns uint8 codes = round(255·sRGB); the engine moves them as they are."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    import onnx

    from llie_core.engine import RawEnhancer, create_enhancer
    from llie_core.engine.onnx_backend import OrtEstimator
    from llie_core.export import export_onnx
    from llie_core.models import create_model
    from training.quantize import quantize_estimator

    model = create_model("llpacknet", weights=llpacknet_weights)
    frames = [_raw_frame(seed=seed) for seed in range(4)]  # calibrated on frames like the one checked below
    inputs = [raw_kernels.pack(frame, estimate_amplification(frame))[0][None] for frame in frames]
    path = quantize_estimator(export_onnx(model, graph="estimator"), inputs, tmp_path / "int8.onnx")
    graph = onnx.load(str(path))
    meta = {p.key: p.value for p in graph.metadata_props}
    assert meta["llie_precision"] == "int8" and meta["llie_output"] == "uint8" and meta["llie_model"] == "llpacknet"
    assert graph.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.UINT8
    network = OrtEstimator(path, "llpacknet", threads=1)
    codes = network.run_packed(inputs[0][0])
    with torch.inference_mode():
        reference = model.estimate(torch.from_numpy(inputs[0])).numpy()[0] * 255
    assert codes.dtype == np.uint8 and codes.shape == reference.shape
    assert np.abs(codes - reference).mean() < 3.0
    raw = _raw_frame(seed=5)
    int8 = RawEnhancer(get_spec("llpacknet"), network, "onnxruntime", 1).enhance(raw)
    fp32 = create_enhancer("llpacknet", backend="torch", weights=llpacknet_weights, threads=1).enhance(raw)
    assert int8.dtype == np.uint8 and np.abs(int8.astype(int) - fp32).mean() < 3.0
