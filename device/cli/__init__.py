"""The `cushion` command line (device.cli.cushion)."""

from device.cli.cushion import main

__all__ = ["main"]
