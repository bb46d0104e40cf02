"""The break companion: what the Now page offers while the person is up, and the move a due break's prompt names.

Pure: plain values in, plain values out (the Now page and its live feed call it).

The moves are the guide's, in our words (dashboard/advice.py has them in full):
walking first, the micro-movements and the gentle seated twist for work
breaks, the floor stretches for a break somewhere with room. They rotate: each
break gets the next one, chosen from when it began, so it stays the same while
the break lasts and the next break brings another.

During a spasm the guide says to walk gently and not to stretch until it has
passed: with a spasm logged in the diary in the last SPASM_RECENT_H hours the
companion offers only walking and the gentlest moves, and says why.
"""

from __future__ import annotations

from dataclasses import dataclass

SPASM_RECENT_H = 24.0


@dataclass(frozen=True, slots=True)
class Move:
    """One thing to do on a break. `stretch`: not during a spasm. `advice`: the Advice page's section."""

    id: str
    title: str
    how: str
    stretch: bool
    advice: str = "exercises"


MOVES = (  # titles read on after "stand up and ..."
    Move(
        "walk",
        "Walk for a few minutes",
        "A lap of the office or the house at an easy pace: walking is the best all-round exercise for a back.",
        stretch=False,
    ),
    Move(
        "shoulders",
        "Roll your shoulders, then shift your weight from foot to foot",
        "Standing tall, roll your "
        "shoulders back slowly five times, then rock gently from one foot to the other for half a minute.",
        stretch=False,
        advice="in-chair-movement",
    ),
    Move(
        "twist",
        "Walk a little, then twist gently back in your chair",
        "Seated again, feet flat, turn your upper "
        "body slowly to one side with a light hand on the armrest; hold 15-20 seconds, then the other way. Slow, "
        "never a quick twist.",
        stretch=True,
    ),
    Move(
        "water",
        "Walk to refill your water glass",
        "Muscles short of water cramp more easily: drink some on the way back.",
        stretch=False,
        advice="hydration",
    ),
    Move(
        "cat-cow",
        "Do cat-cow on the floor, if there is room",
        "On hands and knees, round your back up slowly, then let it sink down: 10 smooth times.",
        stretch=True,
    ),
    Move(
        "knee-chest",
        "Do knee-to-chest, if you can lie down",
        "On your back, draw one knee towards your chest and hold 20-30 seconds; change legs, then both knees together.",
        stretch=True,
    ),
)
GENTLE = tuple(move for move in MOVES if not move.stretch)


def move_for(break_key: int, spasm_recently: bool = False) -> Move:
    """The move for the break identified by `break_key` (e.g. the minute it began): the same for
    the whole break, the next one for the next break; no stretch after a recent spasm."""
    moves = GENTLE if spasm_recently else MOVES
    return moves[break_key % len(moves)]


@dataclass(frozen=True, slots=True)
class BreakProgress:
    """How far the person is into a break: `counts` once it has lasted break_min_s."""

    away_s: float
    needed_s: float

    @property
    def counts(self) -> bool:
        return self.away_s >= self.needed_s

    @property
    def fraction(self) -> float:
        return 1.0 if self.needed_s <= 0 else min(1.0, max(0.0, self.away_s / self.needed_s))

    @property
    def left_s(self) -> float:
        return max(0.0, self.needed_s - self.away_s)
