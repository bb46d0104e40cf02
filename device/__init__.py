"""smart-cushion: the Pi daemon, its pure sitting pipeline and its CLI."""


def version() -> str:
    """The installed project's version (pyproject.toml)."""
    from importlib import metadata

    try:
        return metadata.version("smart-cushion")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"
