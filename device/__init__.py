"""smart-cushion: the Pi daemon, its pure sitting pipeline and its CLI."""
