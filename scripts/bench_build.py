#!/usr/bin/env python3
"""Build benchmark: what `dockopt fix --unsafe` does to real images.

For each app in tests/apps, `dockopt verify --unsafe` builds the legacy Dockerfile and its rewrite cold
(in a fresh engine storage: no build cache), then rebuilds both after a one-line source edit. Printed per app and
in total: image size before/after and the ratio, cold build time before/after, and the build steps
that ran again after the edit (RUN steps: what a rebuild costs).

    python3 scripts/bench_build.py                 # every app (about 15 minutes on 2 cores)
    python3 scripts/bench_build.py python-flask c-make
    python3 scripts/bench_build.py --json out.json # also keep the raw verify reports

Needs root and Debian's buildah/podman: scripts/make_base_images.sh (run first, here) installs them and
makes the base images locally. The builds run in a fresh engine storage (target/engine-bench-*, removed
afterwards) holding only the base images: every build is cold, and the cache check after the edit sees
only the layers this run made (Buildah, and so Podman, may pick an older look-alike chain of cached
images left by earlier builds of the same Dockerfile, and then miss). Sizes are Podman's; compare
figures within one engine only.
"""

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
APPS = REPO / "tests" / "apps"


BASE_IMAGES = ["docker.io/library/debian:bookworm", "docker.io/library/debian:bookworm-slim"]


def engine_env(state_dir=None):
    """The environment that points the engine at a private state folder (default: the repository's)."""
    env = dict(os.environ)
    if state_dir:
        env["DOCKOPT_ENGINE_DIR"] = str(state_dir)
    exports = subprocess.run(
        ["bash", str(REPO / "scripts" / "make_base_images.sh"), "--env"],
        check=True, capture_output=True, text=True, env=env,
    ).stdout
    for line in exports.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = value.strip("'")
    return env


def fresh_storage():
    """A new engine storage holding only the base images, copied from the repository's storage."""
    shared = engine_env()
    state = REPO / "target" / f"engine-bench-{os.getpid()}"
    env = engine_env(state)
    archive = state / "base-images.tar"
    subprocess.run(["podman", "save", "--quiet", "-m", "-o", str(archive), *BASE_IMAGES], env=shared, check=True)
    subprocess.run(["podman", "load", "--quiet", "-i", str(archive)], env=env, check=True, stdout=subprocess.DEVNULL)
    archive.unlink()
    return state, env


def remove_storage(state, env):
    """Remove the bench storage: its images, then the mounts the overlay driver left, then the folder."""
    subprocess.run(["podman", "rmi", "--all", "--force"], env=env, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    prefix = str(state) + "/"
    with open("/proc/mounts") as mounts:
        points = [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", point], check=False, stderr=subprocess.DEVNULL)
    shutil.rmtree(state, ignore_errors=True)


def dockopt_binary(explicit):
    if explicit:
        return explicit
    subprocess.run(["cargo", "build", "--locked", "--quiet", "--release", "--bin", "dockopt"], cwd=REPO, check=True)
    return str(REPO / "target" / "release" / "dockopt")


def verify(dockopt, app, env, engine):
    command = [
        dockopt, "verify", "--unsafe", "--engine", engine, "--format", "json",
        "--engine-arg=--network=host", "--engine-arg=--pull=never", str(APPS / app),
    ]
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if not done.stdout.strip():
        sys.exit(f"{app}: dockopt verify exited {done.returncode} without a report:\n{done.stderr}")
    report = json.loads(done.stdout)
    report["wall_seconds"] = time.monotonic() - started
    return report["files"][0], report


def mb(n):
    return f"{n / 1e6:.1f} MB" if n is not None else "?"


def secs(s):
    return f"{s:.0f} s" if s is not None else "?"


def row(app, f):
    before, after = f.get("before") or {}, f.get("after") or {}
    cache = f.get("cache") or {}
    cb, ca = cache.get("before") or {}, cache.get("after") or {}
    return {
        "app": app,
        "verdict": f["verdict"],
        "size_before": before.get("size"),
        "size_after": after.get("size"),
        "build_before": before.get("seconds"),
        "build_after": after.get("seconds"),
        "rerun_before": rerun_runs(cb),
        "rerun_after": rerun_runs(ca),
        "rebuild_before": cb.get("seconds"),
        "rebuild_after": ca.get("seconds"),
        "packages_removed": len((f.get("packages") or {}).get("removed") or []),
        "edited": (cache.get("edit") or {}).get("path"),
    }


def ratio(before, after):
    return f"{after / before:.2f}" if before and after else "?"


def rerun_runs(rebuild):
    """RUN steps that ran again after the edit (of all RUN steps): the cost of the rebuild."""
    if rebuild.get("run_steps") is None:
        return None
    return (rebuild["run_steps"] - rebuild["run_cached"], rebuild["run_steps"])


def rerun(pair):
    return f"{pair[0]}/{pair[1]}" if pair else "?"


def print_table(rows):
    header = (
        "| app | size before | size after | after/before | cold build before | cold build after "
        "| RUN steps re-run after an edit (before → after) | rebuild after the edit (before → after) | packages removed |"
    )
    print(header)
    print("|" + "---|" * (header.count(" | ") + 1))
    for r in rows:
        print(
            f"| {r['app']} | {mb(r['size_before'])} | {mb(r['size_after'])} | {ratio(r['size_before'], r['size_after'])} "
            f"| {secs(r['build_before'])} | {secs(r['build_after'])} "
            f"| {rerun(r['rerun_before'])} → {rerun(r['rerun_after'])} "
            f"| {secs(r['rebuild_before'])} → {secs(r['rebuild_after'])} | {r['packages_removed']} |"
        )
    done = [r for r in rows if r["verdict"] == "verified" and r["size_before"] and r["size_after"]]
    if done:
        total = lambda key: sum(r[key] or 0 for r in done)  # noqa: E731
        print(
            f"| **total** | {mb(total('size_before'))} | {mb(total('size_after'))} "
            f"| {ratio(total('size_before'), total('size_after'))} | {secs(total('build_before'))} "
            f"| {secs(total('build_after'))} "
            f"| {sum(r['rerun_before'][0] for r in done if r['rerun_before'])}/{sum(r['rerun_before'][1] for r in done if r['rerun_before'])} → "
            f"{sum(r['rerun_after'][0] for r in done if r['rerun_after'])}/{sum(r['rerun_after'][1] for r in done if r['rerun_after'])} "
            f"| {secs(total('rebuild_before'))} → {secs(total('rebuild_after'))} | {total('packages_removed')} |"
        )
    for r in rows:
        if r["verdict"] != "verified":
            print(f"\n{r['app']}: {r['verdict']} (see `dockopt verify --unsafe tests/apps/{r['app']}`)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("apps", nargs="*", help="apps of tests/apps (default: all)")
    parser.add_argument("--engine", default="podman", choices=["podman", "buildah", "docker"])
    parser.add_argument("--dockopt", help="the dockopt binary (default: cargo build --release)")
    parser.add_argument("--json", help="write the raw verify reports to this file")
    args = parser.parse_args()

    apps = args.apps or sorted(p.name for p in APPS.iterdir() if (p / "Dockerfile").is_file())
    subprocess.run(["bash", str(REPO / "scripts" / "make_base_images.sh")], check=True)
    dockopt = dockopt_binary(args.dockopt)
    state, env = fresh_storage()
    rows, raw = [], {}
    try:
        for app in apps:
            print(f"bench: {app} …", file=sys.stderr, flush=True)
            f, report = verify(dockopt, app, env, args.engine)
            raw[app] = report
            rows.append(row(app, f))
    finally:
        remove_storage(state, env)
    print_table(rows)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(raw, indent=2) + "\n")


if __name__ == "__main__":
    main()
