#!/usr/bin/env bash
# The build tier of CI: every realistic legacy app in tests/apps is built as it is and as
# `dockopt fix --unsafe` rewrites it (through `dockopt verify`, with Podman), each image's smoke command
# (its CMD, a self-test) is run, and the tier asserts for each app:
#   - both images build, and (verify's run check) the rewrite's CMD does not fail where the original's works,
#   - the smoke output is the same (and not empty),
#   - the rewritten image is smaller,
#   - after a one-line source edit the rewrite re-runs no more RUN steps than the original,
#   - `verify` built exactly what `dockopt fix --unsafe` writes.
# It skips (exit 0, with the reason) only where the engine cannot run at all: not root, or no
# container can start. Anything else that fails, fails the tier.
#
#   bash scripts/build_tier.sh [APP...]       (default: every folder of tests/apps)
#
# Base images are made locally (scripts/make_base_images.sh); all engine state is under
# $DOCKOPT_ENGINE_DIR (default target/engine).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
started=$SECONDS

if [[ "$(id -u)" != 0 ]]; then
    echo "build tier: SKIPPED: it needs root (debootstrap for the base images, a rootful engine)"
    exit 0
fi

bash scripts/make_base_images.sh
eval "$(bash scripts/make_base_images.sh --env)"

probe_log="$(mktemp)"
if ! podman run --rm --network none docker.io/library/debian:bookworm-slim true >"$probe_log" 2>&1; then
    echo "build tier: SKIPPED: the container engine cannot start a container here:"
    sed 's/^/  /' "$probe_log" | tail -n 5
    rm -f "$probe_log"
    exit 0
fi
rm -f "$probe_log"

# Everything but the base images is removed after each app: verify builds with --layers (the cache
# check), and the intermediate images of 15 apps fill a CI disk (`no space left on device` seen).
# The base images are the tagged ones not made here (verify tags what it keeps as localhost/dockopt-verify).
base_images="$(podman images --all --no-trunc --format '{{.Id}} {{.Repository}}' |
    awk '$2 != "<none>" && $2 !~ /^localhost\// {print $1}' | sort -u)"
free_engine_storage() {
    buildah rm --all >/dev/null 2>&1 || true
    local leftovers
    leftovers="$(comm -13 <(echo "$base_images") <(podman images --all --no-trunc --format '{{.Id}}' | sort -u))"
    if [[ -n "$leftovers" ]]; then
        # shellcheck disable=SC2086
        podman rmi --force $leftovers >/dev/null 2>&1 || true
    fi
}
free_engine_storage
engine_state="${DOCKOPT_ENGINE_DIR:-$repo/target/engine}"
echo "build tier: $(df -h --output=avail "$engine_state" | tail -n 1 | tr -d ' ') free for the engine"

if [[ -n "${DOCKOPT_BIN:-}" ]]; then
    dockopt="$DOCKOPT_BIN"
else
    cargo build --locked --quiet --bin dockopt
    dockopt="$repo/target/debug/dockopt"
fi

if (($#)); then
    apps=("$@")
else
    # The whole tier (CI): also verify's own engine test, which skips where no engine is set up:
    # each image's CMD run, a rewrite that breaks it reported unsafe.
    echo "build tier: verify's run check (tests/verify.rs, with this engine)"
    DOCKOPT_ENGINE_DIR="${DOCKOPT_ENGINE_DIR:-$repo/target/engine}" \
        cargo test --locked --quiet --test verify verify_runs_each_images_own_command
    apps=()
    for dir in tests/apps/*/; do
        apps+=("$(basename "$dir")")
    done
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
failures=0
rows=()

for app in "${apps[@]}"; do
    app_started=$SECONDS
    echo "build tier: $app"
    json="$out/$app.json"
    set +e
    "$dockopt" verify --unsafe --engine podman --keep --format json \
        --engine-arg=--network=host --engine-arg=--pull=never \
        "tests/apps/$app" >"$json" 2>"$out/$app.stderr"
    code=$?
    set -e
    if [[ ! -s "$json" ]]; then
        echo "  FAIL: dockopt verify exited $code without a report:"
        sed 's/^/    /' "$out/$app.stderr" | tail -n 30
        failures=$((failures + 1))
        rows+=("$app|verify exited $code|||||||||FAIL")
        continue
    fi

    # What verify kept: images, Dockerfiles as built, work folder.
    read -r verdict before_image after_image after_dockerfile work_folder < <(python3 - "$json" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
f = report["files"][0]
kept = f.get("kept") or {}
print(f["verdict"], kept.get("before_image", "-"), kept.get("after_image", "-"),
      kept.get("after_dockerfile", "-"), report.get("work_folder") or "-")
EOF
    )

    problems=()
    if [[ "$verdict" != "verified" ]]; then
        problems+=("verify says $verdict (exit $code)")
        python3 - "$json" <<'EOF' | sed 's/^/    /'
import json, sys
f = json.load(open(sys.argv[1]))["files"][0]
print(f["message"])
for side in ("before", "after"):
    build = f.get(side) or {}
    for line in build.get("log_tail") or []:
        print(f"{side} | {line}")
EOF
    fi

    # verify must have built what `fix --unsafe` writes.
    if [[ -f "$after_dockerfile" ]]; then
        copy="$out/$app-fixed"
        cp -r "tests/apps/$app" "$copy"
        "$dockopt" fix --unsafe "$copy" 2>"$out/$app.fix.stderr" >/dev/null || true
        if ! cmp -s "$copy/Dockerfile" "$after_dockerfile"; then
            problems+=("the Dockerfile verify built differs from what \`dockopt fix --unsafe\` writes")
            diff -u "$copy/Dockerfile" "$after_dockerfile" | sed 's/^/    /' | head -n 40 || true
        fi
    fi

    smoke="-"
    if [[ "$verdict" == "verified" ]]; then
        podman run --rm --network none "$before_image" >"$out/$app.smoke.before" 2>&1 || problems+=("the original's smoke command failed")
        podman run --rm --network none "$after_image" >"$out/$app.smoke.after" 2>&1 || problems+=("the rewrite's smoke command failed")
        if [[ ! -s "$out/$app.smoke.before" ]]; then
            problems+=("the original's smoke command printed nothing")
        elif cmp -s "$out/$app.smoke.before" "$out/$app.smoke.after"; then
            smoke="same"
        else
            smoke="DIFFERS"
            problems+=("the smoke output differs")
            diff -u --label original --label rewrite "$out/$app.smoke.before" "$out/$app.smoke.after" | sed 's/^/    /' || true
        fi
    fi

    # Sizes, layers, packages and the cache check, from the report; the assertions on them.
    row_and_problems="$(python3 - "$json" "$app" "$smoke" <<'EOF'
import json, sys
path, app, smoke = sys.argv[1:4]
f = json.load(open(path))["files"][0]
before, after = f.get("before") or {}, f.get("after") or {}
def mb(n):
    return f"{n / 1e6:.1f} MB" if n is not None else "?"
problems = []
size_b, size_a = before.get("size"), after.get("size")
ratio = f"{size_a / size_b:.2f}" if size_b and size_a else "?"
if f["verdict"] == "verified":
    if size_b is None or size_a is None:
        problems.append("image sizes unknown")
    elif size_a >= size_b:
        problems.append(f"the rewritten image is not smaller ({mb(size_b)} -> {mb(size_a)})")
run = f.get("run") or {}
if f["verdict"] == "verified" and run.get("verdict") != "works":
    # Every app's CMD is a self-test that exits 0: verify must have run both and seen them work.
    problems.append(f"verify's run of the images' own command: {run.get('verdict', 'not done')}")
layers = f"{before.get('layers', '?')} -> {after.get('layers', '?')}"
packages = f.get("packages") or {}
removed = len(packages.get("removed") or [])
cache = f.get("cache") or {}
cb, ca = cache.get("before") or {}, cache.get("after") or {}
if cb.get("ok") and ca.get("ok"):
    # RUN steps are the cost of a rebuild; a runtime stage adds metadata steps that re-run for free.
    rerun_b = cb["run_steps"] - cb["run_cached"]
    rerun_a = ca["run_steps"] - ca["run_cached"]
    cached = f"{cb['cached']}/{cb['steps']} -> {ca['cached']}/{ca['steps']}"
    rerun = f"{rerun_b} -> {rerun_a}"
    rebuild = f"{cb['seconds']:.0f} -> {ca['seconds']:.0f}"
    if rerun_a > rerun_b:
        problems.append(f"after a source edit the rewrite re-runs more RUN steps ({rerun_b} -> {rerun_a})")
else:
    cached = rerun = rebuild = "?"
    if f["verdict"] == "verified":
        problems.append("the cache check did not complete")
waste = f.get("waste") or {}
eb, ea = (waste.get("before") or {}).get("efficiency"), (waste.get("after") or {}).get("efficiency")
efficiency = f"{eb * 100:.1f} -> {ea * 100:.1f}" if eb is not None and ea is not None else "?"
print("|".join([app, mb(size_b), mb(size_a), ratio, layers, str(removed), cached, rerun, rebuild, efficiency, smoke]))
for p in problems:
    print(p)
EOF
    )"
    row="$(head -n 1 <<<"$row_and_problems")"
    while IFS= read -r problem; do
        [[ -n "$problem" ]] && problems+=("$problem")
    done < <(tail -n +2 <<<"$row_and_problems")

    if ((${#problems[@]})); then
        failures=$((failures + 1))
        rows+=("$row|FAIL")
        for problem in "${problems[@]}"; do
            echo "  FAIL: $problem"
        done
        echo "  (verify's progress and report: $out/$app.stderr, $json; build logs under $work_folder;" \
            "$(df -h --output=avail "$engine_state" | tail -n 1 | tr -d ' ') free)"
        sed 's/^/    /' "$out/$app.stderr" | tail -n 10
    else
        rows+=("$row|ok")
        echo "  ok in $((SECONDS - app_started)) s"
    fi
    free_engine_storage
    if ((${#problems[@]} == 0)) && [[ "$work_folder" != "-" ]]; then
        rm -rf "$work_folder"
    fi
done

echo
# cached(edit): steps taken from the cache after a one-line source edit (cached/steps, original ->
# rewrite); rerun: the RUN steps that ran again; rebuild: its seconds; efficiency: dive's score in %
# (verify's waste measurement), original -> rewrite.
printf '%-16s %10s %10s %6s %8s %6s %14s %7s %9s %14s %6s %6s\n' \
    app before after ratio layers "-pkgs" "cached(edit)" rerun "rebuild s" efficiency smoke result
for row in "${rows[@]}"; do
    IFS='|' read -r app before after ratio layers removed cached rerun rebuild efficiency smoke result <<<"$row"
    printf '%-16s %10s %10s %6s %8s %6s %14s %7s %9s %14s %6s %6s\n' \
        "$app" "$before" "$after" "$ratio" "$layers" "$removed" "$cached" "$rerun" "$rebuild" "$efficiency" "$smoke" "$result"
done
passed=$((${#apps[@]} - failures))
echo
echo "build tier: ${#apps[@]} apps in $((SECONDS - started)) s"
echo "build-tier: $passed passed, $failures failed"
((failures == 0))
