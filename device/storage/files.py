"""Replacing a file whole: what a reader sees is the old file or the new one, never half of either."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def replaced_atomically(path: Path) -> Iterator[Path]:
    """A temporary file next to ``path`` (next to its target, for a symlink) to write in the block.

    When the block ends, the temporary file is synced to the disk, given the
    old file's permissions and renamed over it; when the block raises (a full
    disk, Ctrl-C) it is removed and whatever was at ``path`` stays as it was.
    """
    target = path.resolve() if path.is_symlink() else path
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        yield temporary
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        if target.exists():
            os.chmod(temporary, target.stat().st_mode & 0o7777)
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
