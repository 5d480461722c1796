#!/usr/bin/env python3
"""Speed benchmark: dockopt's editor path and whole-corpus check, against hadolint and dockerfile-doctor.

Usage (from the repo root, after `bash scripts/test.sh` made the project's virtualenv, and
`. .ci/venv/bin/activate && pip install dockerfile-doctor`):

    python3 scripts/bench_speed.py [--runs N]

It builds dockopt in release mode, then measures wall-clock time of whole processes:
  1. `dockopt fix -` and `dockopt format -` on a ~200-line real Dockerfile (format-on-save), N runs
     each: min / median / p95 (`format -` must stay within 5 ms);
  2. `dockopt check` over every file of ../shared/corpus (one process), hadolint on the same files
     (one process), and dockerfile-doctor on the same files (one process): median of 3 runs, as ratios.
Timings are of this machine (2 cores); compare ratios, not absolute numbers, across machines.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
EDITOR_FILE = CORPUS / "docker-library__php__8.6-rc__bookworm__cli__Dockerfile" / "Dockerfile"


def timed(cmd, stdin=None, ok=(0, 1)):
    start = time.perf_counter()
    p = subprocess.run(cmd, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if p.returncode not in ok:
        sys.exit(f"{cmd[0]} exited {p.returncode}")
    return elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=100)
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    dockopt = str(ROOT / "target" / "release" / "dockopt")
    files = sorted(str(p) for p in CORPUS.glob("*/Dockerfile"))

    text = EDITOR_FILE.read_bytes()
    lines = text.count(b"\n")
    # The editor paths: `fix -` (Safe fixes) and `format -` (the formatter alone; budget 5 ms).
    for command in (["fix", "-"], ["format", "-"]):
        for _ in range(5):  # warm the page cache
            timed([dockopt, *command], stdin=text)
        runs = sorted(timed([dockopt, *command], stdin=text) for _ in range(args.runs))
        p95 = runs[min(len(runs) - 1, int(len(runs) * 0.95))]
        print(f"editor path: `dockopt {' '.join(command)}` on a {lines}-line Dockerfile, {args.runs} runs (whole process)")
        print(f"  min {runs[0]*1000:.2f} ms   median {statistics.median(runs)*1000:.2f} ms   p95 {p95*1000:.2f} ms")

    print(f"\nwhole corpus: {len(files)} Dockerfiles, one process each tool, median of 3 runs")
    results = {}
    # Exit 2 is expected: two corpus files are BuildKit parser test files with no FROM.
    results["dockopt check"] = statistics.median(timed([dockopt, "check", *files], ok=(0, 1, 2)) for _ in range(3))
    if shutil.which("hadolint"):
        results["hadolint"] = statistics.median(timed(["hadolint", "--no-fail", *files], ok=(0, 1)) for _ in range(3))
    if shutil.which("dockerfile-doctor"):
        results["dockerfile-doctor"] = statistics.median(
            timed(["dockerfile-doctor", "--no-color", "-q", *files], ok=(0, 1, 2)) for _ in range(3)
        )
    base = results["dockopt check"]
    print(f"  {'tool':<20} {'seconds':>8} {'× dockopt':>10}")
    for tool, secs in results.items():
        print(f"  {tool:<20} {secs:>8.3f} {secs / base:>10.1f}")


if __name__ == "__main__":
    main()
