"""Run every benchmark: `make bench` (or `python -m bench [name ...]`)."""

import importlib
import sys

BENCHMARKS = ["bench_pipeline", "bench_driver", "bench_daemon", "bench_dashboard"]


def main(argv: list[str]) -> int:
    chosen = argv or BENCHMARKS
    for name in chosen:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            print(f"# {name}: not available ({exc.name})")
            continue
        print(f"# {name}")
        sys.stdout.flush()
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
