"""Zero-reference losses and SSIM on constructed inputs whose answer is known."""

from __future__ import annotations

import math

import pytest
import torch

from llie_core.losses import (
    color_constancy_loss,
    exposure_loss,
    illumination_smoothness_loss,
    multi_region_exposure_loss,
    spatial_consistency_loss,
    ssim,
    zero_reference_loss,
)


def _random_image(seed: int = 0, size: int = 32) -> torch.Tensor:
    return torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(seed))


def test_exposure_zero_when_every_patch_mean_is_target() -> None:
    # A checkerboard of 0.5/0.7 per pixel has patch means of exactly 0.6 for even patch sizes.
    board = (torch.arange(32).view(-1, 1) + torch.arange(32)) % 2
    x = (0.5 + 0.2 * board.float()).expand(1, 3, 32, 32)
    assert exposure_loss(x, patch=16, target=0.6).item() == pytest.approx(0.0, abs=1e-12)
    assert multi_region_exposure_loss(x, (2, 8, 16), 0.6).item() == pytest.approx(0.0, abs=1e-12)


def test_exposure_value_for_uniform_image() -> None:
    x = torch.full((1, 3, 32, 32), 0.2)
    assert exposure_loss(x, patch=16, target=0.6).item() == pytest.approx(0.16, rel=1e-5)


def test_color_zero_for_grey_image_and_value_for_coloured() -> None:
    grey = torch.rand(2, 1, 16, 16).expand(2, 3, 16, 16)
    assert color_constancy_loss(grey).item() == 0.0
    # Channel means 1, 0, 0: Drg = Drb = 1, Dgb = 0 → sqrt(1 + 1 + 0).
    red = torch.zeros(1, 3, 8, 8)
    red[:, 0] = 1.0
    assert color_constancy_loss(red).item() == pytest.approx(math.sqrt(2), rel=1e-6)


def test_color_gradient_finite_for_grey_image() -> None:
    grey = torch.full((1, 3, 8, 8), 0.4, requires_grad=True)
    color_constancy_loss(grey).backward()
    assert torch.isfinite(grey.grad).all()


def test_tv_zero_for_constant_map_and_value_for_ramp() -> None:
    assert illumination_smoothness_loss(torch.full((2, 3, 10, 12), 0.3)).item() == 0.0
    # A horizontal ramp with step 0.1: h_tv = 0, w_tv = C·H·(W−1)·0.01 → 2·(C·0.01)/N.
    ramp = (0.1 * torch.arange(12.0)).expand(1, 3, 10, 12)
    assert illumination_smoothness_loss(ramp).item() == pytest.approx(2 * 3 * 0.01, rel=1e-5)


def test_spatial_zero_when_output_equals_input_and_positive_otherwise() -> None:
    x = _random_image()
    assert spatial_consistency_loss(x, x).item() == 0.0
    # A global brightness offset keeps interior contrasts but changes the zero-padded border ones.
    assert spatial_consistency_loss(x.clamp(0, 0.5) * 2, x).item() > 0


def _shifted_difference_sum(grey: torch.Tensor, offsets: list[tuple[int, int]]) -> torch.Tensor:
    # By hand: centre minus the zero-padded neighbour at each (dy, dx), per pixel, for an H×W map.
    h, w = grey.shape
    padded = torch.nn.functional.pad(grey, (1, 1, 1, 1))
    return torch.stack([grey - padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy, dx in offsets])


def test_spatial_eight_neighbours_adds_half_weighted_diagonals_by_hand() -> None:
    x, y = _random_image(5, 8)[:1], _random_image(6, 8)[:1]
    straight = [(0, -1), (0, 1), (-1, 0), (1, 0)]
    diagonal = [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    org, enh = x[0].mean(0), y[0].mean(0)
    d_straight = (_shifted_difference_sum(org, straight) - _shifted_difference_sum(enh, straight)).pow(2).sum(0)
    d_diagonal = (_shifted_difference_sum(org, diagonal) - _shifted_difference_sum(enh, diagonal)).pow(2).sum(0)
    four = spatial_consistency_loss(y, x, pool=1, neighbours=4)
    eight = spatial_consistency_loss(y, x, pool=1, neighbours=8)
    assert four.item() == pytest.approx(d_straight.mean().item(), rel=1e-5)
    assert eight.item() == pytest.approx((d_straight + 0.5 * d_diagonal).mean().item(), rel=1e-5)
    assert spatial_consistency_loss(x, x, neighbours=8).item() == 0.0
    with pytest.raises(ValueError, match="neighbours"):
        spatial_consistency_loss(y, x, neighbours=6)


def test_ssim_identity_and_degradation() -> None:
    x = _random_image(1)
    assert ssim(x, x).item() == pytest.approx(1.0, abs=1e-6)
    noisy = (x + 0.2 * torch.randn(x.shape, generator=torch.Generator().manual_seed(2))).clamp(0, 1)
    assert ssim(noisy, x).item() < 0.9


def test_zero_reference_loss_is_weighted_sum() -> None:
    x = _random_image(3)
    enhanced = x.sqrt()
    curves = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(4)) - 0.5
    total, parts = zero_reference_loss(enhanced, x, curves, {"tv": 2.0, "spa": 3.0, "col": 5.0, "exp": 7.0})
    assert parts["tv"] == pytest.approx(2 * illumination_smoothness_loss(curves).item(), rel=1e-5)
    assert parts["spa"] == pytest.approx(3 * spatial_consistency_loss(enhanced, x).item(), rel=1e-5)
    assert total.item() == pytest.approx(sum(parts.values()), rel=1e-5)
    _, sgz = zero_reference_loss(enhanced, x, curves, spa_neighbours=8)
    assert sgz["spa"] == pytest.approx(spatial_consistency_loss(enhanced, x, neighbours=8).item(), rel=1e-5)


def test_shape_errors_name_the_input() -> None:
    with pytest.raises(ValueError, match="enhanced"):
        spatial_consistency_loss(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 16, 16))
    with pytest.raises(ValueError, match="curves"):
        illumination_smoothness_loss(torch.rand(3, 8, 8))
