"""Bench: ``crmkit demo``, the whole path on the sample client, against its 10 s target.

Two measures: the wall time of ``crmkit demo`` as a person runs it (a fresh process, so the
interpreter's start and the imports count; each language, ``RUNS`` times), and the seconds of
each step of one in-process run per language (what the demo prints beside each ✓).
Run: ``python bench/bench_demo.py``; the figures go to the terminal.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crmkit.demo import DemoStep, run_demo
from crmkit.i18n import Lang

TARGET = 10.0
RUNS = 3
LANGS: tuple[Lang, ...] = ("ru", "en", "uk")


def wall_time(lang: str, folder: Path) -> float:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CRMKIT_")}
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "crmkit", "demo", "--out", str(folder), "--lang", lang],
        capture_output=True,
        text=True,
        env=environ,
        check=False,
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"crmkit demo --lang {lang} failed: {done.stderr.strip()}")
    return seconds


def steps(lang: Lang, folder: Path) -> list[DemoStep]:
    seen: list[DemoStep] = []
    run_demo(folder, lang, progress=seen.append)
    return seen


def main() -> None:
    print(f"cores: {os.cpu_count()}; target: {TARGET:.0f} s for the whole demo")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for lang in LANGS:
            times = [wall_time(lang, Path(tmp) / f"{lang}-{i}") for i in range(RUNS)]
            worst = max(worst, *times)
            shown = ", ".join(f"{t:.2f}" for t in times)
            print(f"crmkit demo --lang {lang}: {shown} s (wall, fresh process)")
        for lang in LANGS:
            seen = steps(lang, Path(tmp) / f"steps-{lang}")
            per_step = "  ".join(f"{s.key} {s.seconds:.2f}" for s in seen)
            total = sum(s.seconds for s in seen)
            print(f"steps ({lang}, in-process): {per_step}  = {total:.2f} s")
    verdict = "within" if worst <= TARGET else "OVER"
    print(f"worst wall time {worst:.2f} s: {verdict} the {TARGET:.0f} s target")


if __name__ == "__main__":
    main()
