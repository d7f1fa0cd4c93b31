"""Gating: which frames of a stream are dark enough to enhance, with hysteresis."""

from __future__ import annotations


class FrameGate:
    """Decides per frame whether to enhance: only frames darker than a threshold, with hysteresis.

    A frame whose mean luminance is at or above ``threshold`` bypasses enhancement; once bypassing,
    enhancement resumes only below ``threshold - hysteresis`` so that a scene hovering at the threshold
    does not flicker between enhanced and raw.
    """

    def __init__(self, threshold: float = 0.4, hysteresis: float = 0.05, enabled: bool = True) -> None:
        self.configure(threshold, hysteresis, enabled)
        self.bypassing = False

    def configure(self, threshold: float, hysteresis: float, enabled: bool) -> None:
        """Change the settings; the current state is kept."""
        if not 0.0 <= threshold <= 1.0 or not 0.0 <= hysteresis <= threshold:
            raise ValueError(
                f"gate threshold must be in [0, 1] and hysteresis in [0, threshold]: {threshold}, {hysteresis}"
            )
        self.threshold, self.hysteresis, self.enabled = float(threshold), float(hysteresis), bool(enabled)

    def should_enhance(self, luminance: float) -> bool:
        """True when a frame of this mean luminance is to be enhanced."""
        if not self.enabled:
            self.bypassing = False
            return True
        if self.bypassing:
            self.bypassing = luminance >= self.threshold - self.hysteresis
        else:
            self.bypassing = luminance >= self.threshold
        return not self.bypassing
