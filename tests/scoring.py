"""Scoring detected events against a simulation's ground truth.

Tolerances (issue #2): session edges within 4 s, prompts within 5 s, lean /
twist / perch / slump / fault spans overlapping by half, fidgets within 2 s.
Matching is one-to-one, greedy in time order. The truth prompts are worked
out here offline from the truth sessions and movements, independently of the
pipeline's causal scheduler.
"""

from __future__ import annotations

from dataclasses import dataclass

from device.config import Breaks
from device.core.events import Prompt


@dataclass
class Score:
    kind: str
    truth: int
    detected: int
    matched: int

    @property
    def f1(self) -> float:
        if self.truth == 0 and self.detected == 0:
            return 1.0
        return 2 * self.matched / (self.truth + self.detected)

    def __str__(self) -> str:
        return f"{self.kind}: F1 {self.f1:.3f} (truth {self.truth}, detected {self.detected}, matched {self.matched})"


def _match(truth, detected, same) -> int:
    used = [False] * len(detected)
    matched = 0
    for a in truth:
        for j, b in enumerate(detected):
            if not used[j] and same(a, b):
                used[j] = True
                matched += 1
                break
    return matched


def _overlap_by_half(a_start, a_end, b_start, b_end) -> bool:
    overlap = min(a_end, b_end) - max(a_start, b_start)
    return overlap > 0 and overlap >= 0.5 * max(a_end - a_start, b_end - b_start)


def score(kind: str, truth: list, detected: list, end_t: float) -> Score:
    """Score one kind of event; spans still open (end None) count as ending at end_t."""

    def end(x):
        return x.end if x.end is not None else end_t

    if kind in ("session",):
        same = lambda a, b: (
            abs(a.start - b.start) <= 4
            and (
                (a.end is None and b.end is None)
                or (a.end is not None and b.end is not None and abs(a.end - b.end) <= 4)
            )
        )
    elif kind in ("sit", "stand"):
        same = lambda a, b: abs(a.t - b.t) <= 4
    elif kind == "prompt":
        same = lambda a, b: a.kind == b.kind and abs(a.t - b.t) <= 5
    elif kind == "fidget":
        same = lambda a, b: abs(a.t - b.t) <= 2
    elif kind in ("lean", "twist"):
        same = lambda a, b: a.side == b.side and _overlap_by_half(a.start, end(a), b.start, end(b))
    elif kind in ("perch", "slump"):
        same = lambda a, b: _overlap_by_half(a.start, end(a), b.start, end(b))
    elif kind == "fault":
        same = lambda a, b: a.channel == b.channel and _overlap_by_half(a.start, end(a), b.start, end(b))
    else:
        raise ValueError(kind)
    return Score(kind, len(truth), len(detected), _match(truth, detected, same))


def truth_prompts(sessions, sits, stands, movements, breaks: Breaks, end_t: float) -> list[Prompt]:
    """The prompts the SPEC implies for the true sessions and movements.

    A prompt falling due during a short absence is given when the person sits
    back down; the stillness clock restarts at every sit, movement and move prompt.
    """
    prompts: list[Prompt] = []
    for session in sessions:
        s_end = session.end if session.end is not None else end_t
        absences = [
            (st.t, next((si.t for si in sits if si.t > st.t), s_end)) for st in stands if session.start < st.t < s_end
        ]

        def when_seated(t, absences=absences):
            for a, b in absences:
                if a <= t < b:
                    return b
            return t

        given: list[Prompt] = []
        due = session.start + breaks.break_after_min * 60
        overdue = session.start + breaks.overdue_after_min * 60
        if due < s_end and (due < overdue):
            given.append(Prompt("break_due", when_seated(due), 0.0))
        last_overdue_at = -1.0
        while overdue < s_end:
            at = when_seated(overdue)
            if at < s_end and at > last_overdue_at:
                given.append(Prompt("break_overdue", at, 0.0))
                last_overdue_at = at
            overdue += breaks.repeat_min * 60
        restarts = sorted(
            [session.start]
            + [si.t for si in sits if session.start < si.t < s_end]
            + [m for m in movements if session.start <= m < s_end]
        )
        last = session.start
        index = 0
        while True:
            due_move = last + breaks.still_min * 60
            while index < len(restarts) and restarts[index] <= due_move:
                last = max(last, restarts[index])
                index += 1
                due_move = last + breaks.still_min * 60
            if due_move >= s_end:
                break
            if when_seated(due_move) != due_move:
                last = when_seated(due_move)  # stillness restarts at sitting back down
                continue
            given.append(Prompt("move", due_move, 0.0))
            last = due_move
        prompts.extend(p for p in given if p.t < s_end)
    return sorted(prompts, key=lambda p: p.t)
