"""Training workspace: config validation, a smoke run that learns, reloads and resumes, distillation."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("yaml")
cv2 = pytest.importorskip("cv2")

from training.config import REPO_ROOT, ConfigError, config_from_dict, load_config  # noqa: E402


def _images(folder: Path, n: int = 8, size: int = 40) -> Path:
    # Dark, smooth, coloured images: what the exposure loss has something to learn from.
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size] / size
    for i in range(n):
        base = 0.05 + 0.15 * (np.sin(6 * xx + i) * 0.5 + 0.5) * yy
        img = np.stack([base * rng.uniform(0.6, 1.4) for _ in range(3)], axis=2)
        cv2.imwrite(str(folder / f"{i}.png"), (np.clip(img, 0, 1) * 255).astype(np.uint8))
    return folder


def _smoke_config(tmp_path: Path, **extra) -> dict:
    cfg = {
        "name": "smoke",
        "model": "zero_dce_pp",
        "epochs": 12,
        "batch_size": 8,
        "threads": 1,
        "device": "cpu",
        "out_dir": str(tmp_path / "runs"),
        "data": {"root": str(_images(tmp_path / "data")), "image_size": 32, "min_crop_fraction": 1.0, "hflip": False},
        "optim": {"lr": 0.01, "grad_clip": 0.0},
        "loss": {"exposure_patch": 8, "spa_pool": 2, "tv": 10.0},
    }
    cfg.update(extra)
    return cfg


def _losses(run_dir: Path) -> list[float]:
    with open(run_dir / "loss_log.csv", newline="") as fh:
        return [float(r["total"]) for r in csv.DictReader(fh)]


def test_shipped_configs_are_valid() -> None:
    configs = sorted((REPO_ROOT / "training" / "configs").glob("*.yaml"))
    assert {p.stem for p in configs} >= {"zero_dce", "zero_dce_pp", "tiny_dce"}
    for path in configs:
        cfg = load_config(path)
        assert cfg.name == path.stem


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"epocs": 3}, r"unknown key\(s\) \['epocs'\]"),
        ({"optim": {"learning_rate": 1e-3}}, r"optim: unknown key\(s\) \['learning_rate'\]"),
        ({"batch_size": "8"}, "batch_size: expected an integer"),
        ({"model": "zero_dcepp"}, "unknown model 'zero_dcepp'"),
        ({"optim": {"schedule": "step"}}, "optim.schedule"),
        ({"data": {"gamma_range": [0.5]}}, "gamma_range"),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, patch: dict, message: str) -> None:
    cfg = _smoke_config(tmp_path)
    for key, value in patch.items():
        if isinstance(value, dict):
            cfg[key] = {**cfg.get(key, {}), **value}
        else:
            cfg[key] = value
    with pytest.raises(ConfigError, match=message):
        config_from_dict(cfg)


def test_undrawn_images_are_exactly_those_no_epoch_draws(tmp_path: Path) -> None:
    from training.engine import PatchSampler

    files = [tmp_path / f"{i}.png" for i in range(20)]
    cfg = config_from_dict(_smoke_config(tmp_path, epochs=2, batch_size=3) | {"data": {"root": str(tmp_path)}})
    cfg.data.images_per_epoch = 7  # two batches of 3 per epoch: a partial batch is not drawn either
    sampler = PatchSampler(files, cfg)
    drawn = {i for epoch in range(2) for batch in sampler.epoch_batches(epoch) for i in batch}
    assert 0 < len(drawn) <= 12
    assert sampler.undrawn() == sorted(set(range(20)) - drawn)


def test_missing_required_key() -> None:
    with pytest.raises(ConfigError, match="model: required"):
        config_from_dict({"name": "x"})


def test_smoke_run_learns_reloads_and_resumes(tmp_path: Path) -> None:
    from llie_core.models import create_model
    from training.engine import run_training
    from training.zero_reference import make_step

    cfg = config_from_dict(_smoke_config(tmp_path))
    run_dir = run_training(cfg, make_step(cfg), progress=False)
    losses = _losses(run_dir)
    assert len(losses) == 12
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3])
    for name in ("model.pth", "checkpoint_last.pt", "loss_curve.png", "summary.yaml", "config.yaml"):
        assert (run_dir / name).is_file(), name
    model = create_model("zero_dce_pp", weights=run_dir / "model.pth", scale_factor=1)
    x = torch.rand(1, 3, 24, 24) * 0.2
    with torch.no_grad():
        y = model(x)
    assert y.shape == x.shape and torch.isfinite(y).all() and y.mean() > x.mean()

    # Stop after 6 epochs, resume to 12: the same weights as the straight run.
    half = config_from_dict(_smoke_config(tmp_path, name="halves", epochs=6))
    run_training(half, make_step(half), progress=False)
    full = config_from_dict(_smoke_config(tmp_path, name="halves"))
    resumed = run_training(full, make_step(full), resume=True, progress=False)
    a = torch.load(run_dir / "model.pth", weights_only=True)
    b = torch.load(resumed / "model.pth", weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert _losses(resumed) == losses
    # Training flushes subnormal floats only while it runs: the rest of the process still sees them.
    assert bool(torch.tensor([1e-40]) != 0)


def test_distillation_smoke_run(tmp_path: Path) -> None:
    from llie_core.models import create_model
    from training.distill import curve_response, train_distill
    from training.engine import run_training
    from training.zero_reference import make_step

    # A teacher that brightens: the smoke zero-reference run.
    teacher_cfg = config_from_dict(_smoke_config(tmp_path, name="teacher"))
    teacher_path = run_training(teacher_cfg, make_step(teacher_cfg), progress=False) / "model.pth"
    cfg = config_from_dict(
        _smoke_config(
            tmp_path,
            name="student",
            model="tiny_dce",
            mode="distill",
            epochs=8,
            scale_factor=4,
            distill={"teacher_weights": str(teacher_path), "stage1_epochs": 2, "task": 0.0},
        )
    )
    run_dir = train_distill(cfg, progress=False)
    with open(run_dir / "loss_log.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    stage2 = [float(r["kd_mse"]) for r in rows if r["stage"] == "2"]
    assert len(stage2) == 6 and stage2[-1] < stage2[0]
    student = create_model("tiny_dce", weights=run_dir / "model.pth")
    assert sum(p.numel() for p in student.parameters()) == 161
    # The curve response of a zero curve is the identity at every probe.
    resp = curve_response(torch.zeros(1, 3, 2, 2), 4)
    assert torch.allclose(resp[0, :, 0, 0].view(-1, 3)[:, 0], torch.linspace(0.05, 0.95, 10))


def test_train_cli_rejects_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from training.__main__ import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmodel: tiny_dce\nlearning_rate: 1\n")
    assert main([str(bad)]) == 2
    assert "learning_rate" in capsys.readouterr().err


@pytest.mark.parametrize("scale", [1, 4])
def test_distill_curves_match_the_model(scale: int) -> None:
    from llie_core.models.dce import TinyDCE
    from training.distill import curves_two_resolutions

    torch.manual_seed(0)
    model = TinyDCE(scale_factor=scale)
    x = torch.rand(2, 3, 30, 42)
    _, _, full = curves_two_resolutions(model, x)
    assert torch.equal(full, model.curves(x))


def _iat_config(tmp_path: Path, **extra) -> dict:
    from conftest import shared_path

    shared_path("weights", "reference", "iat_lol_v2.pth")
    cfg = {
        "name": "iat_smoke",
        "model": "iat_student",
        "mode": "iat_distill",
        "epochs": 3,
        "batch_size": 3,
        "threads": 1,
        "device": "cpu",
        "out_dir": str(tmp_path / "runs"),
        "data": {"root": str(_images(tmp_path / "data", n=6)), "image_size": 32},
        "optim": {"lr": 0.003},  # constant: a 1-epoch run then shares the 3-epoch run's schedule
        "iat": {
            "cache_dir": str(tmp_path / "cache"),
            "scales": [1, 2, 4],
            "scale_weights": [1.0, 1.0, 1.0],
            "consistency": 1.0,
            "consistency_scales": [2, 4],
            "consistency_size": 16,
            "consistency_images": 2,
        },
    }
    cfg.update(extra)
    return cfg


def test_iat_student_distillation_caches_the_teacher_trains_and_resumes(tmp_path: Path) -> None:
    import yaml

    from llie_core.models import BoundedIATStudent, create_model
    from training.iat_student import build_cache, train_iat_distill

    cfg = config_from_dict(_iat_config(tmp_path))
    run_dir = train_iat_distill(cfg, progress=False)
    with open(run_dir / "loss_log.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 and {r["scale"] for r in rows} <= {"1", "2", "4"}
    assert all(float(r["consistency"]) > 0 for r in rows)  # every batch draws an upsampled crop
    student = create_model("iat_student", weights=run_dir / "model.pth")
    assert type(student) is BoundedIATStudent
    # The teacher ran once per image; building again finds every target cached.
    folder = build_cache(cfg, progress=False)
    assert yaml.safe_load((folder / "timing.yaml").read_text())["images"] == 6
    teacher_out = np.load(folder / "outputs.npy")
    assert teacher_out.shape == (6, 3, 32, 32) and teacher_out.mean() > np.load(folder / "inputs.npy").mean() / 255

    half = config_from_dict(_iat_config(tmp_path, name="iat_halves", epochs=1))
    train_iat_distill(half, progress=False)
    resumed = train_iat_distill(config_from_dict(_iat_config(tmp_path, name="iat_halves")), resume=True, progress=False)
    a = torch.load(run_dir / "model.pth", weights_only=True)
    b = torch.load(resumed / "model.pth", weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)


def _look_batch(scale: int) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor, dict, torch.Tensor]:
    """A fresh student, three frames whose means are dark (teacher targets), mid (half way to the identity) and
    bright (the identity), random teacher outputs, their batch at ``scale`` and the frames' identity weights."""
    from llie_core.models import BoundedIATStudent
    from training.iat_student import identity_weight

    torch.manual_seed(0)
    student = BoundedIATStudent(scale_factor=1).eval()
    x = torch.tensor([0.2, 0.7, 0.9]).view(3, 1, 1, 1) + 0.1 * (torch.rand(3, 3, 32, 32) - 0.5)
    teacher_out = torch.rand(3, 3, 32, 32)
    batch = {"x": x, "out": teacher_out, "y": x, "params": torch.zeros(3, 10), "scale": scale, "crop": None}
    return student, x, teacher_out, batch, identity_weight(x, [0.6, 0.8])


def test_iat_look_mixes_the_look_models_output_into_the_output_target(tmp_path: Path) -> None:
    from llie_core.models import create_model
    from training.iat_student import make_step, split_forward

    student, x, teacher_out, batch, w = _look_batch(scale=2)
    look = create_model("zero_dce_pp", scale_factor=4)
    assert w.flatten().tolist() == pytest.approx([0.0, 0.5, 1.0], abs=0.02)
    with torch.no_grad():
        out = split_forward(student, x, 2)[0]
        expected = {a: (1 - a) * teacher_out + a * ((1 - w) * look(x).clamp(0, 1) + w * x) for a in (0.0, 0.3, 1.0)}
    for a, target in expected.items():
        cfg = config_from_dict(_iat_config(tmp_path, iat={"look": a, "look_scale": 4, "consistency_size": 16}))
        with torch.no_grad():
            _, parts = make_step(cfg)(student, batch, 0)
        assert parts["out_l1"] == pytest.approx(float((out - target).abs().mean()), rel=1e-5)
    assert expected[1.0][2].equal(x[2])  # a bright frame's look target is the frame itself


def test_iat_high_pass_removes_what_is_smooth_and_keeps_what_is_fine() -> None:
    from training.iat_student import high_pass

    flat = torch.full((1, 3, 32, 32), 0.4)
    assert high_pass(flat, 2.0).abs().max() < 1e-6  # reflected borders: no dark rim on a flat frame
    ramp = torch.linspace(0, 1, 32).view(1, 1, 1, 32).expand(1, 3, 32, 32)
    assert high_pass(ramp, 2.0)[..., 8:-8].abs().max() < 1e-5  # a gradient is low frequency (away from the borders)
    checker = (torch.arange(32).view(32, 1) + torch.arange(32).view(1, 32)) % 2 * torch.ones(1, 3, 1, 1)
    assert torch.allclose(high_pass(checker, 2.0), checker - 0.5, atol=0.01)  # pixel detail passes unchanged


def test_iat_look_detail_adds_the_high_pass_of_the_looks_difference_to_the_target(tmp_path: Path) -> None:
    from llie_core.models import create_model
    from training.iat_student import high_pass, make_step, split_forward

    student, x, teacher_out, batch, w = _look_batch(scale=1)
    with torch.no_grad():
        out = split_forward(student, x, 1)[0]
        look = (1 - w) * create_model("zero_dce_pp", scale_factor=4)(x).clamp(0, 1) + w * x
    for a, d in ((0.0, 0.5), (0.1, 0.3), (0.1, 0.0)):
        iat = {"look": a, "look_detail": d, "look_sigma": 0.1, "look_scale": 4, "consistency_size": 16}
        cfg = config_from_dict(_iat_config(tmp_path, iat=iat))
        with torch.no_grad():
            _, parts = make_step(cfg)(student, batch, 0)
            # sigma = 0.1 of the 32-pixel side
            target = (1 - a) * teacher_out + a * look + d * high_pass(look - teacher_out, 3.2)
        assert parts["out_l1"] == pytest.approx(float((out - target).abs().mean()), rel=1e-5)
    # what the detail term adds is zero-mean locally: the target's low frequencies stay the teacher's
    added = high_pass(look - teacher_out, 3.2)
    assert float(added.mean(dim=(2, 3)).abs().max()) < 0.02 < float(added.abs().mean())


def test_iat_distill_config_errors() -> None:
    base = {"name": "x", "model": "iat_student", "mode": "iat_distill"}
    with pytest.raises(ConfigError, match=r"iat.look must be in \[0, 1\]"):
        config_from_dict({**base, "iat": {"look": 1.5}})
    with pytest.raises(ConfigError, match=r"iat.look_sigma must be in \(0, 0.1\]"):
        config_from_dict({**base, "iat": {"look_detail": 0.3, "look_sigma": 0.5}})
    with pytest.raises(ConfigError, match="scale_weights must give one weight per scale"):
        config_from_dict({**base, "iat": {"scales": [1, 2], "scale_weights": [1.0]}})
    with pytest.raises(ConfigError, match="mode iat_distill trains IAT models"):
        config_from_dict({**base, "model": "tiny_dce"})
    with pytest.raises(ConfigError, match="mode iat_distill trains IAT models"):
        config_from_dict({"name": "x", "model": "iat_student"})


def test_sgz_dark_views_come_only_from_the_training_part() -> None:
    from conftest import shared_path

    from llie_core.detect_eval import split_names
    from training.sgz import dark_training_files

    root = shared_path("data", "detect", "highway_dev")
    names = {p.name for p in dark_training_files(root)}
    split = split_names(sorted(p.name for p in (root / "images").iterdir()))
    assert names == set(split.train) and not names & set(split.eval)


def test_sgz_smoke_run_uses_the_semantic_loss_and_dark_views(tmp_path: Path) -> None:
    from conftest import shared_path

    pytest.importorskip("ultralytics")
    from training.sgz import DarkMixSampler, train_sgz

    extra = {
        "name": "sgz_smoke",
        "model": "sgz",
        "mode": "sgz",
        "epochs": 2,
        "batch_size": 4,
        "max_iterations_per_epoch": 2,
        "loss": {"exposure_patch": 8, "spa_pool": 2, "tv": 10.0, "spa_neighbours": 8},
        "semantic": {
            "detector": str(shared_path("models", "detect", "yolov8n.pt")),
            "dark_root": str(shared_path("data", "detect", "highway_dev")),
            "dark_per_batch": 2,
            "dark_regimes": ["heavy"],
        },
    }
    cfg = config_from_dict(_smoke_config(tmp_path, **extra))
    cfg.data.image_size = 32
    sampler = DarkMixSampler(sorted((tmp_path / "data").iterdir()), cfg)
    batch = sampler.load_batch([0, 1, 2, 3], epoch=0, step=0)
    assert batch.shape == (4, 3, 32, 32)
    # the dark road views (heavy regime: linear light ÷16, about 0.1 in sRGB), seeded by (epoch, step)
    assert batch[2:].mean() < 0.15 and torch.equal(batch, sampler.load_batch([0, 1, 2, 3], epoch=0, step=0))
    assert not torch.equal(batch[2:], sampler.load_batch([0, 1, 2, 3], epoch=0, step=1)[2:])
    run_dir = train_sgz(cfg, progress=False)
    with open(run_dir / "loss_log.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 and all(float(r["sem"]) > 0 for r in rows)
    assert all(float(r["total"]) > float(r["sem"]) for r in rows)
    assert (run_dir / "model.pth").is_file()


def _whole_dark_frames(**semantic) -> dict:
    """An sgz semantic config with whole dark highway_dev frames (64 px, enhanced at s = 4), updated by ``semantic``."""
    from conftest import shared_path

    return {
        "detector": str(shared_path("models", "detect", "yolov8n.pt")),
        "dark_root": str(shared_path("data", "detect", "highway_dev")),
        "dark_size": 64,
        "dark_scale": 4,
    } | semantic


def test_sgz_dark_frames_at_the_deployment_scale(tmp_path: Path) -> None:
    pytest.importorskip("ultralytics")
    from llie_core.models import create_model
    from training.sgz import DarkMixSampler, estimation_scale, make_step
    from training.task_loss import FrozenDetector

    semantic = _whole_dark_frames(dark_per_batch=1, dark_regimes=["heavy"])
    cfg = config_from_dict(_smoke_config(tmp_path, model="sgz", mode="sgz", batch_size=3, semantic=semantic))
    cfg.data.image_size = 32
    batch = DarkMixSampler(sorted((tmp_path / "data").iterdir()), cfg).load_batch([0, 1, 2], epoch=0, step=0)
    # the SICE views at the training size, one whole dark frame at dark_size
    assert batch["images"].shape == (2, 3, 32, 32) and batch["dark"].shape == (1, 3, 64, 64)
    assert batch["dark"].mean() < 0.15
    model = create_model("sgz", scale_factor=1).train()
    with estimation_scale(model, 4):
        assert model.scale_factor == 4
    assert model.scale_factor == 1
    detector = FrozenDetector(semantic["detector"])
    loss, parts = make_step(cfg, detector)(model, batch, 0)
    assert parts["sem_dark"] > 0 and float(loss.detach()) > parts["sem"] + parts["sem_dark"]
    # semantic.dark_weight weighs the dark frames' term alone (default: semantic.weight)
    light_only = config_from_dict(
        _smoke_config(tmp_path, model="sgz", mode="sgz", batch_size=3, semantic={**semantic, "dark_weight": 0.0})
    )
    _, parts_light = make_step(light_only, detector)(model, batch, 0)
    assert parts_light["sem_dark"] == 0 and parts_light["sem"] == pytest.approx(parts["sem"])
    loss.backward()  # the dark frames' semantic loss reaches the network through the s = 4 estimate
    assert all(p.grad is not None for p in model.parameters())
    with pytest.raises(ConfigError, match="dark_size"):
        config_from_dict(_smoke_config(tmp_path, model="sgz", mode="sgz", semantic={**semantic, "dark_size": 50}))


def test_sgz_dark_frames_distilled_or_judged_against_the_clean_frame(tmp_path: Path) -> None:
    pytest.importorskip("ultralytics")
    from llie_core.models import create_model
    from training.distill import load_teacher
    from training.sgz import DarkMixSampler, make_step
    from training.task_loss import FrozenDetector

    semantic = _whole_dark_frames(dark_per_batch=2, dark_regimes=["none", "heavy"], distill_regimes=["none"])
    extra = {"model": "sgz", "mode": "sgz", "batch_size": 4, "semantic": semantic, "distill": {"kd": 1.0}}
    cfg = config_from_dict(_smoke_config(tmp_path, **extra))
    cfg.data.image_size = 32
    sampler = DarkMixSampler(sorted((tmp_path / "data").iterdir()), cfg)
    # a batch with one frame of each regime, and the clean frames the dark ones were made from
    batch = next(
        b
        for s in range(20)
        if sorted((b := sampler.load_batch([0, 1, 2, 3], 0, s))["regimes"]) == sorted(semantic["dark_regimes"])
    )
    assert batch["clean"].shape == batch["dark"].shape and batch["clean"].mean() > 2 * batch["dark"].mean()
    detector = FrozenDetector(semantic["detector"])
    teacher = load_teacher(cfg, torch.device("cpu"))
    # a student that is the teacher: nothing to distil on the none frame, the heavy frame judged by the guide
    model = create_model("sgz", weights=cfg.distill.teacher_weights, scale_factor=1).train()
    _, same = make_step(cfg, detector, teacher)(model, batch, 0)
    assert same["kd_mse"] == pytest.approx(0.0, abs=1e-10) and same["sem_dark"] > 0
    # another student: the none frame's output is pulled towards the teacher's
    other = create_model("sgz", scale_factor=1).train()
    loss, parts = make_step(cfg, detector, teacher)(other, batch, 0)
    assert parts["kd_mse"] > 0 and parts["kd_ssim"] > 0
    loss.backward()
    assert all(p.grad is not None for p in other.parameters())
    with pytest.raises(ValueError, match="needs the teacher"):
        make_step(cfg, detector)
    # dark_targets "clean": the focal loss takes its pseudo-labels from the clean frame, so it differs
    clean_cfg = config_from_dict(
        _smoke_config(tmp_path, **{**extra, "semantic": {**semantic, "dark_targets": "clean"}})
    )
    _, clean_parts = make_step(clean_cfg, detector, teacher)(model, batch, 0)
    assert clean_parts["sem_dark"] > 0 and clean_parts["sem_dark"] != pytest.approx(same["sem_dark"])
    for bad, match in (({"distill_regimes": ["moderate"]}, "among semantic.dark_regimes"), ({"dark_size": 0}, "whole")):
        with pytest.raises(ConfigError, match=match):
            config_from_dict(_smoke_config(tmp_path, **{**extra, "semantic": {**semantic, **bad}}))


def test_sgz_look_views_distilled_at_the_look_scale(tmp_path: Path) -> None:
    pytest.importorskip("ultralytics")
    from llie_core.models import create_model
    from training.distill import load_teacher
    from training.sgz import DarkMixSampler, make_step
    from training.task_loss import FrozenDetector

    semantic = _whole_dark_frames(dark_per_batch=1, dark_regimes=["heavy"], look_kd=10.0, look_scale=4)
    extra = {"model": "sgz", "mode": "sgz", "batch_size": 3, "semantic": semantic}
    cfg = config_from_dict(_smoke_config(tmp_path, **extra))
    cfg.data.image_size = 64
    batch = DarkMixSampler(sorted((tmp_path / "data").iterdir()), cfg).load_batch([0, 1, 2], epoch=0, step=0)
    detector = FrozenDetector(semantic["detector"])
    teacher = load_teacher(cfg, torch.device("cpu"))
    step = make_step(cfg, detector, teacher)
    # a student that is the teacher: nothing to distil; the road frame keeps its semantic loss
    same = step(create_model("sgz", weights=cfg.distill.teacher_weights, scale_factor=1).train(), batch, 0)[1]
    assert same["look_mse"] == pytest.approx(0.0, abs=1e-10) and same["sem_dark"] > 0
    # another student: its SICE views are pulled towards the teacher's output, at look_scale (not scale_factor)
    other = create_model("sgz", scale_factor=1).train()
    loss, parts = step(other, batch, 0)
    assert parts["look_mse"] > 0 and parts["look_ssim"] > 0 and "kd_mse" not in parts
    at_one = config_from_dict(_smoke_config(tmp_path, **{**extra, "semantic": {**semantic, "look_scale": 1}}))
    assert make_step(at_one, detector, teacher)(other, batch, 0)[1]["look_mse"] != pytest.approx(parts["look_mse"])
    without = config_from_dict(_smoke_config(tmp_path, **{**extra, "semantic": {**semantic, "look_kd": 0.0}}))
    loss_without, parts_without = make_step(without, detector)(other, batch, 0)
    assert "look_mse" not in parts_without
    assert float(loss.detach()) == pytest.approx(
        float(loss_without) + 10.0 * (parts["look_mse"] + 0.05 * parts["look_ssim"])
    )
    loss.backward()
    assert all(p.grad is not None for p in other.parameters())
    with pytest.raises(ValueError, match="needs the teacher"):
        make_step(cfg, detector)
    with pytest.raises(ConfigError, match="look_scale"):
        config_from_dict(_smoke_config(tmp_path, **{**extra, "semantic": {**semantic, "look_scale": 0}}))
