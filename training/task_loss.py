"""Detector task losses for training enhancers: a frozen ultralytics detector as a differentiable loss.

``FrozenDetector`` wraps any ultralytics detection model file (.pt: the network itself is needed for
gradients, an exported .onnx/.engine has none) in eval mode with its weights frozen: BatchNorm keeps its
running statistics and nothing of the detector changes, while gradients flow through it to the image.
It returns the detection head's raw predictions (DFL box logits and class logits per anchor).

Two losses on those predictions:

- ``DetectionTargetLoss``: ultralytics' own ``v8DetectionLoss`` (task-aligned assignment, BCE class
  loss, CIoU box loss and DFL, with the training gains box 7.5, cls 0.5, dfl 1.5) against target boxes:
  the dataset's labels, or the detector's own detections on the clean frame (``FrozenDetector.detect``),
  so that the enhanced dark frame makes the detector answer as it does on the clean one.
- ``semantic_focal_loss``: SGZ's semantic guidance (Zheng and Gupta 2022) for a detector. SGZ puts a
  focal loss (γ = 2) on a segmentation network's own argmax labels of the enhanced image; here each
  anchor's class distribution (softmax of the class logits) is pushed towards its own argmax class,
  weighted by the anchor's (detached) confidence so that background anchors, which YOLO leaves with no
  class at all, do not dominate. No labels and no clean frame are needed.

Images are N×3×H×W RGB tensors in [0, 1] with H and W multiples of the detector's largest stride (32 for
YOLOv8), as ultralytics feeds its models. Everything runs on the device of the images.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "DetectionTargetLoss",
    "FrozenDetector",
    "semantic_focal_loss",
    "targets_to_batch",
]

# ultralytics' default training gains (ultralytics/cfg/default.yaml), used by v8DetectionLoss
LOSS_GAINS = {"box": 7.5, "cls": 0.5, "dfl": 1.5}


class FrozenDetector(nn.Module):
    """An ultralytics detection model, frozen and in eval mode, giving raw head predictions with gradients.

    ``forward(images)`` → dict ``boxes`` N×(4·reg_max)×A (DFL logits), ``scores`` N×nc×A (class logits)
    and ``feats`` (the head's input feature maps), the form ``v8DetectionLoss`` takes.
    """

    def __init__(self, model_path: str | Path, device: str | torch.device = "cpu") -> None:
        super().__init__()
        path = Path(model_path)
        if not path.is_file():
            raise FileNotFoundError(f"detector model file {path} does not exist (nothing is downloaded)")
        if path.suffix != ".pt":
            raise ValueError(
                f"detector {path}: a task loss needs the PyTorch model (.pt) to pass gradients; "
                f"an exported {path.suffix or 'file'} has none"
            )
        from llie_core.detect import prepare_ultralytics_env

        prepare_ultralytics_env()
        from ultralytics import YOLO
        from ultralytics.nn.modules.head import Detect

        model = YOLO(str(path), task="detect").model
        head = model.model[-1] if hasattr(model, "model") else None
        if not isinstance(head, Detect):
            raise ValueError(f"detector {path}: expected an ultralytics detection model, got {type(head).__name__}")
        self.model = model.float().to(device).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.names: dict[int, str] = {int(k): str(v) for k, v in dict(model.names).items()}
        self.nc = int(head.nc)
        self.stride = int(head.stride.max())
        self.path = path

    def train(self, mode: bool = True) -> FrozenDetector:
        """Always stays in eval mode: BatchNorm statistics and the head's outputs are those of deployment."""
        return super().train(False)

    def _check(self, images: torch.Tensor) -> None:
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"detector input must be N×3×H×W RGB, got shape {tuple(images.shape)}")
        h, w = images.shape[-2:]
        if h % self.stride or w % self.stride:
            raise ValueError(f"detector input {h}×{w}: height and width must be multiples of {self.stride}")

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor | list[torch.Tensor]]:
        """Raw predictions (one-to-many head) for N×3×H×W RGB images in [0, 1]."""
        self._check(images)
        _, raw = self.model(images)
        return raw["one2many"] if "one2many" in raw else raw

    def decode(self, raw: dict) -> torch.Tensor:
        """Decoded predictions N×A×(4 + nc): xyxy boxes in pixels and class probabilities (differentiable)."""
        head = self.model.model[-1]
        decoded = head._inference(raw)  # N×(4 + nc)×A, boxes as centre xywh
        boxes, scores = decoded.split((4, self.nc), dim=1)
        xy, wh = boxes[:, :2], boxes[:, 2:]
        xyxy = torch.cat((xy - wh / 2, xy + wh / 2), dim=1)
        return torch.cat((xyxy, scores), dim=1).transpose(1, 2)

    @torch.no_grad()
    def detect(
        self, images: torch.Tensor, conf: float = 0.25, iou: float = 0.7, max_det: int = 300
    ) -> list[torch.Tensor]:
        """Detections per image after NMS (ultralytics'): M×6 [x1, y1, x2, y2, score, class] in pixels."""
        from ultralytics.utils import nms

        self._check(images)
        decoded, _ = self.model(images)
        return nms.non_max_suppression(decoded, conf, iou, max_det=max_det)


def targets_to_batch(targets: Sequence[torch.Tensor], height: int, width: int) -> dict[str, torch.Tensor]:
    """Per-image targets (M×5 [class, x1, y1, x2, y2] in pixels) → the batch dict of ultralytics' losses.

    ``batch_idx`` (T,), ``cls`` (T×1) and ``bboxes`` (T×4, centre xywh normalised by the image size).
    """
    rows = []
    for i, t in enumerate(targets):
        t = torch.as_tensor(t, dtype=torch.float32).reshape(-1, 5)
        x1, y1, x2, y2 = t[:, 1], t[:, 2], t[:, 3], t[:, 4]
        xywh = torch.stack(((x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height), 1)
        rows.append(torch.cat((torch.full((len(t), 1), float(i)), t[:, :1], xywh), 1))
    table = torch.cat(rows) if rows else torch.zeros(0, 6)
    return {"batch_idx": table[:, 0], "cls": table[:, 1:2], "bboxes": table[:, 2:6]}


class DetectionTargetLoss:
    """ultralytics' v8DetectionLoss of a FrozenDetector's raw predictions against target boxes, per image.

    ``loss(raw, targets)`` with ``targets`` one M×5 [class, x1, y1, x2, y2] (pixels, detector class ids)
    tensor per image → (mean over images of box + cls + dfl, each with the training gains; {part: float}).
    """

    def __init__(self, detector: FrozenDetector, gains: dict[str, float] | None = None) -> None:
        from ultralytics.utils.loss import v8DetectionLoss

        model = detector.model
        saved = getattr(model, "args", None)
        # v8DetectionLoss reads the gains from model.args; a loaded .pt holds its own (a dict, or absent)
        model.args = SimpleNamespace(**(LOSS_GAINS | (gains or {})))
        try:
            self.criterion = v8DetectionLoss(model)
        finally:
            model.args = saved
        self.nc = detector.nc

    def __call__(self, raw: dict, targets: Sequence[torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        """(loss, parts) for the raw predictions of N images and their N target tables."""
        n = raw["scores"].shape[0]
        if len(targets) != n:
            raise ValueError(f"got {len(targets)} target tables for {n} images")
        for t in targets:
            t = torch.as_tensor(t)
            if t.numel() and (t[:, 0].min() < 0 or t[:, 0].max() >= self.nc):
                raise ValueError(f"target classes must be detector ids in 0..{self.nc - 1}")
        height, width = (torch.tensor(raw["feats"][0].shape[2:]) * self.criterion.stride[0]).tolist()
        batch = targets_to_batch(targets, int(height), int(width))
        loss, parts = self.criterion(raw, {k: v.to(raw["scores"].device) for k, v in batch.items()})
        # v8DetectionLoss returns the sum of the three parts times the batch size
        return loss.sum() / n, {k: float(v) for k, v in zip(("box", "cls", "dfl"), parts.values(), strict=True)}


def semantic_focal_loss(
    scores: torch.Tensor, gamma: float = 2.0, weighted: bool = True, reference: torch.Tensor | None = None
) -> torch.Tensor:
    """SGZ's semantic loss on class logits N×nc×A: focal loss towards each anchor's own argmax class.

    p = softmax over classes; target c* = argmax (no gradient); loss_a = −(1 − p_c*)^γ · log p_c*.
    ``weighted``: anchors weighted by their detached max sigmoid score (normalised to sum 1 per batch),
    so objects count and empty background does not; else a plain mean over anchors. γ = 0 is cross-entropy.
    ``reference``: logits of the same shape (e.g. the guide on the clean frame) that give the target class and
    the weights instead of ``scores`` themselves.
    """
    if scores.ndim != 3:
        raise ValueError(f"class logits must be N×nc×A, got shape {tuple(scores.shape)}")
    if reference is not None and reference.shape != scores.shape:
        raise ValueError(f"reference logits {tuple(reference.shape)} must match the scores {tuple(scores.shape)}")
    if gamma < 0:
        raise ValueError(f"gamma must be >= 0, got {gamma}")
    guide = (scores if reference is None else reference).detach()
    log_p = F.log_softmax(scores, dim=1)
    target = guide.argmax(dim=1, keepdim=True)
    log_pt = log_p.gather(1, target).squeeze(1)  # N×A
    focal = -((1 - log_pt.exp()) ** gamma) * log_pt
    if not weighted:
        return focal.mean()
    w = guide.sigmoid().amax(dim=1)
    return (w * focal).sum() / w.sum().clamp_min(1e-12)
