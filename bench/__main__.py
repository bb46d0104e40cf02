"""Run every benchmark: `make bench` (or `python -m bench [name ...]`).

Each runs in a fresh Python process of its own, as the daemon and the
dashboard run: the CPU and memory one measures must not carry what an
earlier one left behind (the replay's numpy heap, its garbage-collector
generations, its threads).
"""

import subprocess
import sys

BENCHMARKS = ["bench_pipeline", "bench_driver", "bench_daemon", "bench_dashboard", "bench_mqtt", "bench_hub"]


def main(argv: list[str]) -> int:
    chosen = argv or BENCHMARKS
    failed = []
    for name in chosen:
        if name not in BENCHMARKS:
            print(f"# {name}: no such benchmark (choose from {', '.join(BENCHMARKS)})", file=sys.stderr)
            return 2
        print(f"# {name}", flush=True)
        if subprocess.run([sys.executable, "-m", f"bench.{name}"]).returncode != 0:
            failed.append(name)
    if failed:
        print(f"# failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
