#!/usr/bin/env python3
"""Scale benchmark: how `dockopt check` grows with the size of one Dockerfile.

Usage (from the repo root):

    python3 scripts/bench_scale.py [--sizes 1000,10000,100000] [--runs 3] [--timeout 120] [--mem-limit-mb 4096]

It builds dockopt in release mode, generates three kinds of Dockerfile of each size (in lines) in a
temporary build context, and runs `dockopt check --unsafe` on each as a whole process:
  - mixed:   repeated stages of ordinary instructions (FROM … AS, ARG, ENV, WORKDIR, COPY, apt-get /
             pip / npm RUNs with continuations and comments, LABEL, EXPOSE, CMD);
  - stage:   one FROM, then the same ordinary instructions repeated;
  - env:     one stage with that many `ENV` lines (variables × instructions is where scopes go wrong);
  - heredoc: one `RUN <<EOF` whose body has that many install lines.
For each it prints the wall-clock time (best of --runs), the peak resident memory of the process
(ru_maxrss), and the growth factor from the previous size: with sizes ten times apart, linear cost
shows ×10, quadratic ×100. A run over the memory limit or the timeout is shown as such.
Timings are of this machine (2 cores shared with other work); compare factors, not absolute numbers.
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def block(i):
    """About 25 lines of ordinary instructions, every kind the transforms look at."""
    return [
        f"ARG VERSION_{i}=1.{i}.0",
        f"ENV APP_HOME_{i}=/opt/app{i} \\",
        f"    PATH=/opt/app{i}/bin:$PATH",
        f"WORKDIR /opt/app{i}",
        "RUN apt-get update && \\",
        "    apt-get install -y \\",
        "        curl \\",
        "        git \\",
        f"        libpq-dev && \\",
        "    echo done",
        "COPY requirements.txt ./",
        f"RUN pip install -r requirements.txt flask==2.{i % 10}",
        "COPY package.json package-lock.json ./",
        "RUN npm install",
        "COPY . .",
        f"RUN make build VERSION=${{VERSION_{i}}} && \\",
        f"    cp build/app $APP_HOME_{i}/bin/",
        "RUN apt-get update",
        "RUN apt-get install -y jq",
        f"ADD config-{i}.tar.gz /etc/app/",
        f"LABEL org.example.step=\"{i}\"",
        "MAINTAINER someone@example.com",
        f"USER app{i}",
        f"EXPOSE {8000 + i % 1000}",
        "HEALTHCHECK CMD curl -f http://localhost/ || exit 1",
        f'CMD ["/opt/app{i}/bin/app", "--step", "{i}"]',
        "",
    ]


def mixed(lines):
    """Stages of about 30 lines each, each built FROM the one before."""
    out = ["# syntax=docker/dockerfile:1", "ARG BASE=debian:bookworm"]
    i = 0
    while len(out) < lines:
        prev = f"s{i - 1}" if i else "${BASE}"
        out += [f"# stage {i}: build step {i}", f"FROM {prev} AS s{i}"] + block(i)
        i += 1
    return "\n".join(out[:lines]) + "\n"


def stage(lines):
    """One stage: a FROM, then the same blocks over and over."""
    out = ["# syntax=docker/dockerfile:1", "FROM debian:bookworm"]
    i = 0
    while len(out) < lines:
        out += block(i)
        i += 1
    return "\n".join(out[:lines]) + "\n"


def env(lines):
    out = ["FROM debian:bookworm"]
    out += [f"ENV VAR_{i}=value_{i}" for i in range(lines - 3)]
    out += ["RUN echo $VAR_0", "CMD [\"sh\"]"]
    return "\n".join(out) + "\n"


def heredoc(lines):
    out = ["# syntax=docker/dockerfile:1", "FROM debian:bookworm", "RUN <<EOF"]
    body = lines - 5
    for i in range(body):
        out.append("apt-get update" if i % 100 == 0 else f"apt-get install -y package-{i}")
    out += ["EOF", 'CMD ["sh"]']
    return "\n".join(out) + "\n"


KINDS = {"mixed": mixed, "stage": stage, "env": env, "heredoc": heredoc}


def run_once(cmd, cwd, timeout, mem_limit):
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (mem_limit, mem_limit))

    start = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=limit)
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            p.kill()
            os.wait4(p.pid, 0)
            return None, None, "timeout"
        time.sleep(0.005)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        err = p.stderr.read().decode(errors="replace").strip().splitlines()
        return None, None, f"exit {code}: {err[-1] if err else ''}"[:80]
    return elapsed, usage.ru_maxrss / 1024, None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000,100000", help="lines per file, comma-separated")
    ap.add_argument("--kinds", default=",".join(KINDS), help="which generated files")
    ap.add_argument("--runs", type=int, default=3, help="best of this many runs")
    ap.add_argument("--timeout", type=float, default=120, help="seconds before a run is abandoned")
    ap.add_argument("--mem-limit-mb", type=int, default=4096, help="address-space limit of a run")
    ap.add_argument("--binary", help="a dockopt binary to measure instead of building one")
    args = ap.parse_args()

    if args.binary:
        dockopt = args.binary
    else:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
        dockopt = str(target / "release" / "dockopt")
    sizes = [int(s) for s in args.sizes.split(",")]
    mem_limit = args.mem_limit_mb * 1024 * 1024

    print(f"`dockopt check --unsafe Dockerfile`, best of {args.runs} runs, peak RSS of the process")
    print(f"{'file':<9} {'lines':>7} {'bytes':>9} {'time':>9} {'peak':>9} {'×time':>7} {'×mem':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.kinds.split(","):
            previous = None
            for size in sizes:
                text = KINDS[name](size)
                ctx = Path(tmp) / f"{name}-{size}"
                ctx.mkdir()
                (ctx / "Dockerfile").write_text(text)
                for f in ["requirements.txt", "package.json", "package-lock.json"]:
                    (ctx / f).write_text("{}\n")
                best, peak, failure = None, None, None
                for _ in range(args.runs):
                    elapsed, rss, failure = run_once([dockopt, "check", "--unsafe", "Dockerfile"], ctx, args.timeout, mem_limit)
                    if failure:
                        break
                    best = elapsed if best is None else min(best, elapsed)
                    peak = rss if peak is None else max(peak, rss)
                lines = text.count("\n")
                if failure:
                    print(f"{name:<9} {lines:>7} {len(text):>9} {failure}")
                    previous = None
                    continue
                grow_t = grow_m = ""
                if previous:
                    grow_t = f"×{best / previous[0]:.1f}"
                    grow_m = f"×{peak / previous[1]:.1f}"
                print(f"{name:<9} {lines:>7} {len(text):>9} {best:>8.3f}s {peak:>7.1f}MB {grow_t:>7} {grow_m:>7}")
                sys.stdout.flush()
                previous = (best, peak)


if __name__ == "__main__":
    main()
