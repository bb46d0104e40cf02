"""Frames as the pipeline takes them (SPEC section 1): times and four raw counts per frame.

A block of frames is two arrays, so the per-frame stage can run as array
code: `t` (float64 seconds, never decreasing) and `raw` (int64, shape (n, 4),
corners fl fr bl br), with MISSING where a channel gave no reading. The
24-bit count range is the contract's (device.config: RAW_MIN, RAW_MAX).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Stands in a raw array for "this channel gave no reading for this frame":
# far outside the 24 bits, so no count can be mistaken for it.
MISSING = -(1 << 40)


@dataclass(slots=True)
class FrameBlock:
    """Consecutive frames: t (float64, seconds) and raw (int64, shape (n, 4), MISSING for no reading)."""

    t: np.ndarray
    raw: np.ndarray

    def __len__(self) -> int:
        return len(self.t)
