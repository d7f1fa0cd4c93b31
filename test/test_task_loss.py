"""Detector task losses (training/task_loss.py): SGZ's semantic focal loss, target batches, v8DetectionLoss."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("ultralytics")

from conftest import shared_path  # noqa: E402

from training.task_loss import (  # noqa: E402
    DetectionTargetLoss,
    FrozenDetector,
    semantic_focal_loss,
    targets_to_batch,
)


def test_semantic_focal_loss_by_hand() -> None:
    # two anchors, three classes; unweighted: the mean of −(1 − p)^2 log p at each anchor's argmax
    logits = torch.tensor([[[2.0, 0.0], [0.0, 1.0], [-1.0, 0.5]]])  # 1×3×2
    p0 = math.exp(2) / (math.exp(2) + 1 + math.exp(-1))
    p1 = math.exp(1) / (1 + math.exp(1) + math.exp(0.5))
    expected = (-((1 - p0) ** 2) * math.log(p0) - (1 - p1) ** 2 * math.log(p1)) / 2
    assert semantic_focal_loss(logits, weighted=False).item() == pytest.approx(expected, rel=1e-6)
    # γ = 0 is cross-entropy against the argmax
    ce = torch.nn.functional.cross_entropy(logits, logits.argmax(1))
    assert semantic_focal_loss(logits, gamma=0.0, weighted=False).item() == pytest.approx(ce.item(), rel=1e-6)


def test_semantic_focal_loss_weights_confident_anchors_and_sharpens() -> None:
    torch.manual_seed(0)
    confident = torch.randn(1, 5, 1) * 0.3
    confident[0, 2] = 4.0  # an object: class 2, max sigmoid ≈ 0.98
    background = torch.full((1, 5, 1), -12.0)
    background[0, 1] = -11.0  # no object: every sigmoid ≈ 1e-5, an uncertain class distribution
    both = torch.cat([confident, background], dim=2)
    # weighted by confidence, the background anchor barely counts; unweighted it dominates
    assert semantic_focal_loss(both).item() == pytest.approx(semantic_focal_loss(confident).item(), abs=1e-4)
    assert semantic_focal_loss(both, weighted=False) > 100 * semantic_focal_loss(both)
    # gradient descent raises the probability of each anchor's own argmax class
    x = torch.randn(2, 4, 6, requires_grad=True)
    target = x.detach().argmax(1, keepdim=True)
    before = torch.softmax(x.detach(), 1).gather(1, target)
    semantic_focal_loss(x).backward()
    after = torch.softmax(x.detach() - 1.0 * x.grad, 1).gather(1, target)
    assert bool((after > before).all())
    with pytest.raises(ValueError, match="N×nc×A"):
        semantic_focal_loss(torch.zeros(3, 4))


def test_semantic_focal_loss_towards_reference_logits() -> None:
    # the target class and the anchor weights come from the reference (e.g. the clean frame), not the scores
    scores = torch.tensor([[[2.0, 0.0], [0.0, 1.0], [-1.0, 0.5]]])  # argmax per anchor: classes 0 and 1
    reference = torch.tensor([[[-3.0, -3.0], [-3.0, -3.0], [3.0, 3.0]]])  # class 2 at both anchors
    log_p = torch.log_softmax(scores, 1)[0, 2]
    expected = (-((1 - log_p.exp()) ** 2) * log_p).mean()
    got = semantic_focal_loss(scores, reference=reference)
    assert got.item() == pytest.approx(expected.item(), rel=1e-6)  # equal weights: the reference's sigmoids tie
    assert got > semantic_focal_loss(scores)  # the scores disagree with the reference's class
    assert semantic_focal_loss(scores, reference=scores).item() == pytest.approx(semantic_focal_loss(scores).item())
    with pytest.raises(ValueError, match="reference logits"):
        semantic_focal_loss(scores, reference=torch.zeros(1, 3, 3))


def test_targets_to_batch() -> None:
    batch = targets_to_batch([torch.tensor([[2.0, 10, 20, 50, 100]]), torch.zeros(0, 5)], height=200, width=100)
    assert batch["batch_idx"].tolist() == [0.0]
    assert batch["cls"].tolist() == [[2.0]]
    np.testing.assert_allclose(batch["bboxes"].numpy(), [[0.3, 0.3, 0.4, 0.4]], rtol=1e-6)


@pytest.fixture(scope="module")
def detector_and_image():
    model = shared_path("models", "detect", "yolov8n.pt")
    images = shared_path("data", "detect", "highway_dev", "images")
    cv2 = pytest.importorskip("cv2")
    torch.set_num_threads(2)
    # a road scene with six detections at conf 0.25, whole, at 320×320
    rgb = cv2.cvtColor(cv2.imread(str(images / "train_0008.jpg")), cv2.COLOR_BGR2RGB)
    rgb = cv2.resize(rgb, (320, 320), interpolation=cv2.INTER_AREA)
    image = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float() / 255
    return FrozenDetector(model), image


def test_frozen_detector_passes_gradients_and_stays_frozen(detector_and_image) -> None:
    det, image = detector_and_image
    det.train()  # stays in eval mode
    assert not det.model.training and not any(p.requires_grad for p in det.parameters())
    x = image.clone().requires_grad_(True)
    raw = det(x)
    assert raw["scores"].shape == (1, 80, 2100) and raw["boxes"].shape == (1, 64, 2100)
    raw["scores"].sigmoid().amax().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    assert all(p.grad is None for p in det.parameters())
    decoded = det.decode(det(image))
    assert decoded.shape == (1, 2100, 84) and float(decoded[..., 4:].max()) <= 1.0
    with pytest.raises(ValueError, match="multiples of 32"):
        det(torch.zeros(1, 3, 100, 100))


def test_detection_loss_prefers_the_detectors_own_answer(detector_and_image) -> None:
    det, image = detector_and_image
    found = det.detect(image, conf=0.25)[0]
    assert len(found) >= 1, "the test image should have detections"
    own = torch.cat([found[:, 5:6], found[:, :4]], dim=1)  # [class, x1, y1, x2, y2]
    shifted = own.clone()
    shifted[:, 1:] = (shifted[:, 1:] + torch.tensor([12.0, 9.0, 12.0, 9.0])).clamp(0, 320)
    wrong_class = own.clone()
    wrong_class[:, 0] = (wrong_class[:, 0] + 17) % 80
    loss = DetectionTargetLoss(det)
    raw = det(image)
    l_own, parts = loss(raw, [own])
    l_shifted, _ = loss(raw, [shifted])
    l_wrong, parts_wrong = loss(raw, [wrong_class])
    assert set(parts) == {"box", "cls", "dfl"}
    assert float(l_own) < 0.3 * float(l_shifted)
    assert parts["cls"] < parts_wrong["cls"] and float(l_own) < 0.3 * float(l_wrong)
    # noise on the image raises the loss against the clean frame's detections, and the gradient points back
    noisy = (image + 0.15 * torch.randn_like(image)).clamp(0, 1).requires_grad_(True)
    l_noisy, _ = loss(det(noisy), [own])
    assert l_noisy.item() > l_own.item()
    l_noisy.backward()
    assert float(noisy.grad.abs().sum()) > 0
    with pytest.raises(ValueError, match="detector ids"):
        loss(raw, [torch.tensor([[80.0, 0, 0, 10, 10]])])
    with pytest.raises(ValueError, match="target tables"):
        loss(raw, [own, own])


def test_semantic_loss_on_the_detector_rises_with_noise_and_its_gradient_lowers_it(detector_and_image) -> None:
    # SGZ's guide on a real road scene: noise makes the confident anchors unsure (measured 0.012 -> 0.038)
    det, image = detector_and_image
    clean = semantic_focal_loss(det(image)["scores"])
    noise = 0.15 * torch.randn(image.shape, generator=torch.Generator().manual_seed(0))
    noisy = semantic_focal_loss(det((image + noise).clamp(0, 1))["scores"])
    assert noisy.item() > 2 * clean.item() > 0
    # one normalised gradient step on the image (what the enhancer's training does through the curves)
    x = image.clone().requires_grad_(True)
    semantic_focal_loss(det(x)["scores"]).backward()
    with torch.no_grad():
        stepped = semantic_focal_loss(det((image - 0.01 * x.grad / x.grad.abs().max()).clamp(0, 1))["scores"])
    assert stepped.item() < 0.8 * clean.item()


def test_frozen_detector_refuses_what_has_no_gradients(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        FrozenDetector(tmp_path / "missing.pt")
    onnx = tmp_path / "model.onnx"
    onnx.write_bytes(b"")
    with pytest.raises(ValueError, match="gradients"):
        FrozenDetector(onnx)
