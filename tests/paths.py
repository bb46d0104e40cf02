"""Where things are, for tests in any folder: the repository, and the project's shared folder beside it."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository
SHARED = ROOT.parent / "shared"  # the project's contract and guide (not in a clone elsewhere)
