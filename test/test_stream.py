"""The ROS-free stream core: gate, temporal smoothing, statistics, frame loss, parameter files, StreamProcessor."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from llie_core.params import pipeline_params
from llie_core.params_file import ParamsFileError, default_values, load_params_file
from llie_core.stream import (
    DIAG_ERROR,
    DIAG_OK,
    DIAG_WARN,
    Ema,
    FixedModel,
    FrameGate,
    LossCounter,
    StatsCounter,
    StreamProcessor,
    StreamSettings,
)
from llie_core.stream.loss import INFO_LAG
from llie_core.stream.temporal import channel_means

ROOT = Path(__file__).resolve().parents[1]
MS = 1_000_000
T0 = 1_700_000_000 * 1_000_000_000


def test_gate_threshold_and_hysteresis() -> None:
    gate = FrameGate(threshold=0.4, hysteresis=0.1)
    decisions = [gate.should_enhance(v) for v in (0.2, 0.45, 0.35, 0.31, 0.29, 0.39, 0.41)]
    # Bright at 0.45 -> bypass; stays bypassed until below 0.3; then enhances up to 0.4.
    assert decisions == [True, False, False, False, True, True, False]
    gate.configure(0.4, 0.1, enabled=False)
    assert gate.should_enhance(0.99)
    with pytest.raises(ValueError, match="hysteresis"):
        gate.configure(0.1, 0.2, True)


def test_curve_smoother_ema_and_resets() -> None:
    sm = Ema(alpha=0.75)
    a, b = np.zeros((2, 2, 3), np.float32), np.ones((2, 2, 3), np.float32)
    np.testing.assert_allclose(sm.update(a, key="m"), 0.0)
    np.testing.assert_allclose(sm.update(b, key="m"), 0.25)
    np.testing.assert_allclose(sm.update(b, key="m"), 0.4375)
    np.testing.assert_allclose(sm.update(b, key="other"), 1.0)  # model swap: no blending
    np.testing.assert_allclose(sm.update(np.zeros((3, 3, 3)), key="other"), 0.0)  # size change
    off = Ema(alpha=0.0)
    off.update(a)
    np.testing.assert_allclose(off.update(b), 1.0)


def test_gain_smoother() -> None:
    sm = Ema(alpha=0.5)
    assert [sm.update(g) for g in (2.0, 4.0, 4.0)] == [2.0, 3.0, 3.5]
    assert sm.update(9.0, key="new") == 9.0


def test_ema_of_composite_states() -> None:
    # A model that estimates per-pixel maps and global parameters: averaged member by member.
    sm = Ema(alpha=0.5)
    first = {"maps": np.zeros((2, 2, 3)), "gamma": 1.0, "matrix": (np.eye(3), 0.0)}
    second = {"maps": np.ones((2, 2, 3)), "gamma": 2.0, "matrix": (np.zeros((3, 3)), 4.0)}
    sm.update(first)
    out = sm.update(second)
    np.testing.assert_allclose(out["maps"], 0.5)
    assert out["gamma"] == 1.5 and out["matrix"][1] == 2.0 and out["maps"].dtype == np.float32
    np.testing.assert_allclose(out["matrix"][0], np.eye(3) / 2)
    nan = {**second, "gamma": float("nan")}
    assert np.isnan(sm.update(nan)["gamma"])  # used as it is for its frame ...
    assert sm.update(second)["gamma"] == 1.75  # ... and never blended in
    assert sm.update({"maps": np.ones((2, 2, 3)), "gamma": 8.0})["gamma"] == 8.0  # other layout: restart


def test_ema_of_engine_estimates() -> None:
    # What the networks estimate: a frozen dataclass of maps and globals, averaged field by field, type kept.
    from llie_core.engine import Estimate

    sm = Ema(alpha=0.5)
    sm.update(Estimate(np.zeros((2, 2, 6), np.float32), np.array([1.0, *np.eye(3).ravel()], np.float32)))
    out = sm.update(Estimate(np.ones((2, 2, 6), np.float32), np.array([2.0, *np.zeros(9)], np.float32)))
    assert isinstance(out, Estimate) and out.maps.dtype == np.float32
    np.testing.assert_allclose(out.maps, 0.5)
    np.testing.assert_allclose(out.globals, [1.5, *(np.eye(3).ravel() / 2)])
    assert channel_means(out) == pytest.approx([0.5] * 6 + [1.5, *(np.eye(3).ravel() / 2)])
    curves = sm.update(Estimate(np.full((2, 2, 3), 0.25, np.float32)))  # curve layout: restart, not blend
    np.testing.assert_allclose(curves.maps, 0.25)
    assert curves.globals.shape == (0,) and channel_means(curves) == [0.25] * 3
    assert sm.update(Estimate(np.full((2, 2, 3), 0.75, np.float32))).maps.mean() == pytest.approx(0.5)


def test_ema_keeps_the_current_frames_noise_sigma() -> None:
    # the noise sigma an Estimate carries describes its frame: the current one's is applied, not an average, and it
    # is not a channel of the stats
    from llie_core.engine import Estimate

    sm = Ema(alpha=0.5)
    sm.update(Estimate(np.zeros((2, 2, 4), np.float32), noise_sigma=2.0))
    out = sm.update(Estimate(np.ones((2, 2, 4), np.float32), noise_sigma=8.0))
    np.testing.assert_allclose(out.maps, 0.5)
    assert out.noise_sigma == 8.0 and channel_means(out) == [0.5] * 4
    assert sm.update(Estimate(np.ones((2, 2, 4), np.float32))).noise_sigma is None


def test_processor_applies_each_frames_own_noise_sigma(monkeypatch) -> None:
    # the stream path (estimate, smooth, apply) with the default noise-aware model: each frame's estimate carries
    # its noise sigma through the smoothing to the applier, which does not compute it again
    from llie_core import create_enhancer
    from llie_core.engine import estimate as estimate_module

    enhancer = create_enhancer("noise_aware_dce")
    rng = np.random.default_rng(3)
    frames = [np.clip(40 + rng.normal(0, s, (48, 64, 3)), 0, 255).astype(np.uint8) for s in (0.5, 6.0, 12.0)]
    sigmas = [estimate_module.frame_noise_sigma(f, bgr=True) for f in frames]
    applied, apply = [], enhancer.apply
    monkeypatch.setattr(enhancer, "apply", lambda f, state, rgb=False: applied.append(state) or apply(f, state, rgb))
    computed = []
    sigma_of = estimate_module.frame_noise_sigma
    monkeypatch.setattr(estimate_module, "frame_noise_sigma", lambda f, bgr: computed.append(1) or sigma_of(f, bgr))
    proc = StreamProcessor(FixedModel(enhancer), StreamSettings(smoothing=0.5, gate_threshold=0.9))
    outputs = [proc.process(f, "bgr8").array for f in frames]
    assert len(computed) == len(frames)  # once per frame
    assert [s.noise_sigma for s in applied] == sigmas
    assert not np.allclose(applied[2].maps, enhancer.estimate(frames[2]).maps)  # the maps are an average
    for frame, state, out in zip(frames, applied, outputs, strict=True):  # the carried sigma is the frame's own
        np.testing.assert_array_equal(out, apply(frame, dataclasses.replace(state, noise_sigma=None)))


def test_stats_counter_and_diagnostics() -> None:
    now = [100.0]
    stats = StatsCounter(clock=lambda: now[0])
    assert stats.diagnostic()[:2] == (DIAG_OK, "waiting for frames")
    for latency in (0.010, 0.030, 0.020):
        stats.on_received()
        now[0] += 0.1
        stats.on_processed(latency)
    stats.on_dropped()
    snap = stats.snapshot()
    assert (snap.received, snap.processed, snap.dropped, snap.failed) == (3, 3, 1, 0)
    assert snap.rate_hz == pytest.approx(10.0) and snap.latency_ms == pytest.approx(20.0)
    assert snap.latency_max_ms == pytest.approx(30.0)
    assert stats.on_failed("bad step") is True and stats.on_failed("bad step") is False
    assert stats.on_failed("data has 10 bytes, expected 144") is True
    assert stats.on_failed("data has 99 bytes, expected 144") is False  # same kind, other numbers
    assert stats.snapshot().errors == {"bad step": 2, "data has # bytes, expected #": 2}
    level, message, values = stats.diagnostic()
    assert level == DIAG_WARN and "4 frame(s) failed: data has 99" in message and values["frames failed"] == "4"
    assert stats.diagnostic()[0] == DIAG_OK  # failures are reported once
    only_failures = StatsCounter()
    only_failures.on_failed("unsupported encoding")
    assert only_failures.diagnostic()[0] == DIAG_ERROR


# ---------------------------------------------------------------- frames lost before the node


def test_stamp_gaps_count_missing_frames() -> None:
    loss = LossCounter()
    missing = {12, 30, 31, 32, 57}
    rng = np.random.default_rng(0)
    for i in range(80):
        if i not in missing:
            loss.on_image(T0 + i * 100 * MS + int(rng.integers(-15, 16)) * MS)  # ±15% jitter is no gap
    assert loss.gaps == 5 and loss.lost == 5
    assert loss.period_ns == pytest.approx(100 * MS, rel=0.1)


def test_stamp_gaps_need_a_period_and_restart_when_time_goes_back() -> None:
    loss = LossCounter()
    for i in (0, 5, 6):  # no period yet: the first large delta is not judged
        loss.on_image(T0 + i * 100 * MS)
    assert loss.gaps == 0
    for i in range(7, 15):
        loss.on_image(T0 + i * 100 * MS)
    loss.on_image(T0)  # a replay looped
    for i in range(1, 5):  # too few deltas for a new period
        loss.on_image(T0 + i * 10 * 100 * MS)
    loss.on_image(T0 + 5 * 10 * 100 * MS)
    loss.on_image(T0 + 5 * 10 * 100 * MS)  # the same stamp twice: no delta
    assert loss.gaps == 0


def test_camera_info_without_its_image() -> None:
    loss = LossCounter()
    # The stall seen on a real replay: two frames arrive, then only camera_info.
    for i in range(122):
        stamp = T0 + i * 100 * MS
        if i < 2:
            loss.on_image(stamp)
        loss.on_camera_info(stamp)
    assert loss.unmatched == 122 - 2 - INFO_LAG and loss.lost == loss.unmatched and loss.gaps == 0
    # Streams that never pair (camera_info stamped on its own) raise nothing while images arrive.
    loss = LossCounter()
    for i in range(100):
        loss.on_image(T0 + i * 100 * MS)
        loss.on_camera_info(T0 + i * 100 * MS + 7)
    assert loss.lost == 0
    # No image at all: every settled camera_info is a lost frame.
    loss = LossCounter()
    for i in range(50):
        loss.on_camera_info(T0 + i * 100 * MS)
    assert loss.lost == 50 - INFO_LAG


@pytest.mark.parametrize("info_first", [False, True])
def test_time_going_back_loses_nothing(info_first: bool) -> None:
    loss = LossCounter()
    for k in range(3):  # a replay that loops, a camera clock that resets: stamps start over, three times
        for i in range(40):
            stamp = T0 + k * 7 * MS + i * 100 * MS
            if info_first:
                loss.on_camera_info(stamp)
            loss.on_image(stamp)
            if not info_first:
                loss.on_camera_info(stamp)
    assert loss.lost == 0


def test_misses_before_the_streams_pair_are_counted_once_they_do() -> None:
    loss = LossCounter()
    for i in range(3):
        loss.on_camera_info(T0 + i * 100 * MS)  # frames 0-1 lost, frame 2 arrives after its camera_info
    loss.on_image(T0 + 2 * 100 * MS)
    assert loss.unmatched == 0  # undecided: the streams have not paired yet
    loss.on_camera_info(T0 + 3 * 100 * MS)
    loss.on_image(T0 + 3 * 100 * MS)  # settles camera_info 2, which matches
    assert loss.unmatched == 2


@pytest.mark.parametrize("image_delay", [0, 3])
def test_each_lost_frame_is_counted_once_by_its_camera_info_or_its_gap(image_delay: int) -> None:
    # A detector behind a keep-latest enhancer: one image in three arrives, each a few frames after its
    # camera_info; under load some camera_info is lost together with its image (every 7th frame here).
    loss = LossCounter()
    received = [i for i in range(300) if i % 3 == 0 and i % 7]
    events = []
    for i in range(300):
        if i % 7 or i % 3 == 0:
            events.append((i, "info"))
        if i in received:
            events.append((i + image_delay + 0.5, "image"))
    for at, kind in sorted(events):
        stamp = T0 + round(at - (image_delay + 0.5 if kind == "image" else 0)) * 100 * MS
        (loss.on_image if kind == "image" else loss.on_camera_info)(stamp)
    loss.flush()
    assert loss.lost == 300 - len(received)
    assert loss.gaps == sum(1 for i in range(300) if i % 7 == 0 and i % 3)  # the frames only their gap shows


def test_diagnostics_warn_on_frames_lost() -> None:
    stats = StatsCounter()
    for i in range(30):
        if i % 3 == 0:
            stats.on_received(T0 + i * 100 * MS)
        stats.on_camera_info(T0 + i * 100 * MS)
    level, message, values = stats.diagnostic()
    lost = stats.snapshot().lost
    assert lost == 18 and values["frames lost before the node"] == "18"
    assert level == DIAG_WARN and f"{lost} of {lost + 10} frames" in message and "lost before the node" in message
    stats.on_received(T0 + 28 * 100 * MS)
    assert stats.diagnostic()[:2] == (DIAG_OK, "ok")  # nothing new lost since the last report


def test_summary_balances_the_books_of_an_ended_stream() -> None:
    stats = StatsCounter()
    for i in range(10):
        stamp = T0 + i * 100 * MS
        stats.on_camera_info(stamp)
        if i < 8:  # the last two frames are lost: only their camera_info arrives
            stats.on_received(stamp)
    for _ in range(5):
        stats.on_processed(0.01)
    stats.on_dropped(2)
    stats.on_failed("bad step")
    assert stats.snapshot().lost == 0  # still waiting for their images
    assert stats.summary() == (
        "10 frames sent = 5 processed + 2 dropped + 1 failed + 2 lost before the node "
        "(0 of the processed passed through by the gate)"
    )
    stats.on_received(T0 + 10 * 100 * MS)  # arrived, but the stop came before it was processed
    assert "+ 1 cut off by the stop" in stats.summary()


def test_diagnostics_settle_an_ended_stream_and_warn_when_it_stalls() -> None:
    now = [100.0]
    stats = StatsCounter(clock=lambda: now[0])
    for i in range(30):
        now[0] += 0.1
        stats.on_camera_info(T0 + i * 100 * MS)
        if i < 28:
            stats.on_received(T0 + i * 100 * MS)
    now[0] += 0.5
    level, message, values = stats.diagnostic()
    assert (level, values["frames lost before the node"]) == (DIAG_OK, "0")  # camera_info 28, 29 still pending
    now[0] += 0.6  # nothing arrived for 1.1 s: the stream has ended, the pending camera_info are judged
    level, message, values = stats.diagnostic()
    assert values["frames lost before the node"] == "2" and level == DIAG_WARN and "2 of 2 frames" in message
    now[0] += 2.0  # 3.1 s without an image (period 0.1 s: the floor of 3 s applies)
    level, message, _ = stats.diagnostic()
    assert level == DIAG_WARN and message.startswith("no frame for 3 s after 28")
    # Images stopped but camera_info goes on: the loss, which says how many, is reported before the stall.
    for i in range(30, 30 + INFO_LAG + 10):
        stats.on_camera_info(T0 + i * 100 * MS)
    level, message, values = stats.diagnostic()
    assert values["frames lost before the node"] == "12" and "10 of 10 frames (100%) lost" in message


# ---------------------------------------------------------------- parameter files


def test_params_file_is_the_nodes_defaults() -> None:
    assert load_params_file(ROOT / "config" / "enhancer.yaml") == default_values()
    pipeline = load_params_file(ROOT / "config" / "pipeline.yaml", pipeline_params(), node="pipeline")
    assert pipeline["detector.imgsz"] == 640 and pipeline["smoothing"] == 0.6


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("/**:\n  ros__parameters:\n    smoothing: 1.5\n", "smoothing: 1.5 is outside range"),
        ("/**:\n  ros__parameters:\n    smothing: 0.5\n", "unknown parameter 'smothing'"),
        ("/**:\n  ros__parameters:\n    enabled: 1\n", "enabled: expected bool"),
        ("/**:\n  ros__parameters:\n    backend: tensorrt\n", "backend: 'tensorrt' is not one of"),
        ("/**:\n  ros__parameters:\n    gate_threshold: 0.02\n", "gate_hysteresis 0.05 must not exceed"),
        ("/**:\n  smoothing: 0.5\n", "no 'ros__parameters' mapping"),
        ("detector:\n  ros__parameters:\n    conf: 0.5\n", "no section for the enhancer node"),
        ("/**: [unclosed\n", "not valid YAML"),
        ("", "expected a ROS 2 parameter file"),
    ],
)
def test_params_file_errors_name_the_file_and_the_parameter(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ParamsFileError, match="bad.yaml") as info:
        load_params_file(path)
    assert needle in str(info.value)
    with pytest.raises(ParamsFileError, match="cannot read"):
        load_params_file(tmp_path / "missing.yaml")


def test_params_file_sections_for_the_node(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "/front/enhancer:\n  ros__parameters:\n    smoothing: 0.2\n"
        "/**:\n  ros__parameters:\n    smoothing: 0.9\n    model: clahe\n"
    )
    values = load_params_file(path)  # /** first, then the node's own section
    assert values["smoothing"] == 0.2 and values["model"] == "clahe" and values["auto_gate"] is True


# ---------------------------------------------------------------- the processor


class GainCurves:
    """A curve model stand-in whose state is a gain map: darker frames get a stronger curve."""

    name, backend, kind = "fake_curve", "numpy", "network"

    def estimate(self, frame: np.ndarray, rgb: bool = False) -> np.ndarray:
        return np.full((2, 2, 3), 1.0 - frame.mean() / 255.0, np.float32)

    def apply(self, frame: np.ndarray, curves: np.ndarray, rgb: bool = False) -> np.ndarray:
        return np.clip(frame * (1.0 + float(curves.mean())), 0, 255).astype(frame.dtype)

    def enhance(self, frame: np.ndarray, rgb: bool = False) -> np.ndarray:
        return self.apply(frame, self.estimate(frame, rgb), rgb)


def test_processor_run_gates_smooths_and_reports() -> None:
    levels = [20, 60, 20, 60, 200, 200, 20, 60]
    stamps = [T0 + i * 100 * MS for i in (0, 1, 2, 3, 4, 5, 8, 9)]  # frames 6 and 7 lost
    proc = StreamProcessor(FixedModel(GainCurves()), StreamSettings(smoothing=0.5, gate_threshold=0.4))
    out = [proc.run(np.full((4, 4, 3), v, np.uint8), "bgr8", s) for v, s in zip(levels, stamps, strict=True)]
    gated = [stats.gated for _, stats in out]
    assert gated == [False, False, False, False, True, True, False, False]
    curve = [stats.curve_mean[0] if stats.curve_mean else None for _, stats in out]
    assert curve[4] is None and curve[5] is None  # nothing applied to gated frames
    level = [1 - v / 255 for v in levels]
    assert curve[0] == pytest.approx(level[0]) and curve[1] == pytest.approx((level[0] + level[1]) / 2)
    assert curve[6] == pytest.approx(level[6])  # a gated frame restarted the average
    assert out[4][0].array.mean() == 200 and out[4][1].applied_gain == 1.0  # passed through
    last = out[-1][1]
    assert (last.frames_received, last.frames_processed, last.frames_gated, last.frames_failed) == (8, 8, 2, 0)
    assert [stats.frames_lost for _, stats in out] == [0] * 6 + [2, 2]  # the period is known after five deltas
    proc.run(np.full((4, 4, 3), 20, np.uint8), "bgr8", T0 + 12 * 100 * MS)
    assert proc.stats.snapshot().lost == 4
    assert set(last.fields()) >= {"model", "curve_mean", "frames_lost", "latency_ms"}
    assert last.model == "fake_curve" and last.enabled
