"""SIGTERM (systemd stopping the unit) and SIGINT (Ctrl-C) as a request to stop cleanly."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable


def stop_on_signals(stop: threading.Event) -> Callable[[], None]:
    """Make SIGTERM and SIGINT set ``stop``, so a loop can finish what it is
    writing; returns what puts the old handlers back. Outside the main thread
    (where Python cannot set handlers) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    for signum in saved:
        signal.signal(signum, lambda *_: stop.set())

    def restore() -> None:
        for signum, handler in saved.items():
            signal.signal(signum, handler)

    return restore
