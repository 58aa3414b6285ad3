"""Start-up time of `crmkit --help` against a bare `python -c pass`.

Run: python bench/bench_startup.py [--runs N]
Prints the median and the spread of both, and what crmkit adds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def measure(command: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append((time.perf_counter() - start) * 1000)
    return times


def report(name: str, times: list[float]) -> float:
    median = statistics.median(times)
    print(f"{name:<28} median {median:7.1f} ms   min {min(times):7.1f}   max {max(times):7.1f}")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    measure([sys.executable, "-c", "pass"], 2)  # warm the file cache
    bare = report("python -c pass", measure([sys.executable, "-c", "pass"], runs))
    helped = report("crmkit --help", measure([sys.executable, "-m", "crmkit", "--help"], runs))
    lint_help = report(
        "crmkit blueprint --help",
        measure([sys.executable, "-m", "crmkit", "blueprint", "--help"], runs),
    )
    print(f"crmkit --help adds {helped - bare:.1f} ms over a bare interpreter")
    print(f"crmkit blueprint --help adds {lint_help - bare:.1f} ms")


if __name__ == "__main__":
    main()
