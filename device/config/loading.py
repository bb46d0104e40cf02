"""Where the config lives and how it is read: one way for every command.

A missing file means the defaults (SPEC section 6: every key has one); a
file that cannot be read, is not TOML or does not validate is a CushionError
naming the file (and the key: device.config.validation).
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Callable
from pathlib import Path

from device.config.schema import Config
from device.config.template import render_template
from device.config.validation import config_from_dict
from device.errors import CushionError


def default_config_path() -> Path:
    """~/.config/smart-cushion/config.toml (XDG_CONFIG_HOME honoured)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "smart-cushion" / "config.toml"


def default_db_path() -> Path:
    """~/.local/share/smart-cushion/history.db (XDG_DATA_HOME honoured): the daemon's history."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "smart-cushion" / "history.db"


def load_config(path: str | Path | None) -> Config:
    """Read and validate a TOML config; None or a missing file gives the defaults."""
    if path is None:
        return Config()
    return load_config_file(path)


def load_config_file(path: str | Path, warn: Callable[[str], object] | None = None) -> Config:
    """The config at ``path``, validated.

    A missing file means the defaults (uncalibrated); ``warn`` is told so in
    one line (None: say nothing, for `tare` and `calibrate`, which create
    it). Anything that is not a regular file (a folder, a FIFO that would
    hang the read, a device) is a CushionError.
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if warn is not None:
            warn(f"{path}: no such file; using the default config (uncalibrated)")
        return Config()
    except OSError as exc:
        raise CushionError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder, not a regular file" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise CushionError(f"{path}: {kind}; give the config file (TOML) itself")
    try:
        # utf-8-sig: editors on Windows save a byte-order mark, which TOML
        # itself would reject as a syntax error at line 1.
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CushionError(f"{path}: cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CushionError(f"{path}: TOML syntax error: {exc}") from None
    return config_from_dict(data, str(path))


def find_config(path: str | Path | None, warn: Callable[[str], object] | None = None) -> tuple[Path, Config]:
    """The config a command uses: ``path``, or the default file when None.

    A missing file is the defaults; ``warn`` hears of it only for a path
    given by name (a missing default file is the normal first state).
    """
    if path is None:
        return default_config_path(), load_config_file(default_config_path())
    return Path(path), load_config_file(path, warn=warn)


def prepare_config(path: Path | None, warn: Callable[[str], object] | None = None) -> tuple[Path, Config]:
    """The config to use: ``path``, or the default file, created from the
    commented template on first run. An explicit path that does not exist
    means the defaults, and ``warn`` says so."""
    if path is None:
        path = default_config_path()
        if not path.exists() and not path.is_symlink():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(render_template())
            except OSError as exc:
                raise CushionError(f"{path}: cannot create the config file: {exc.strerror}") from None
    return path, load_config_file(path, warn=warn)
