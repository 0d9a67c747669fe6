"""Run every benchmark in turn: ``python -m bench`` (``make bench``)."""
import importlib
import sys

BENCHES = ("bench_door", "bench_footprint", "bench_sync", "bench_camera", "bench_screens", "bench_collector",
           "bench_fleet")


def main() -> int:
    failed = 0
    for name in BENCHES:
        print(f"== {name}", flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
        except ImportError as exc:
            print(f"{name}: not available ({exc})")
            continue
        failed |= module.main([]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
