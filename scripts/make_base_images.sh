#!/usr/bin/env bash
# Makes the base images `debian:bookworm` and `debian:bookworm-slim` locally (no registry is reachable
# from CI), with debuerreotype, the tool behind the official Debian images, and sets up a daemonless
# engine (buildah/podman from Debian's packages) whose whole state lives in a private folder.
#
#   bash scripts/make_base_images.sh          install what is missing, build the images if missing
#   eval "$(bash scripts/make_base_images.sh --env)"   only print the exports that point the engine
#                                                        at the private folder
#
# The folder is $DOCKOPT_ENGINE_DIR (default: target/engine in the repository). Idempotent: a second run
# with the images present takes a second. Needs root (apt-get, debootstrap, rootful storage).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
state="${DOCKOPT_ENGINE_DIR:-$repo/target/engine}"
mkdir -p "$state"
state="$(cd "$state" && pwd)"

write_config() {
    mkdir -p "$state/storage" "$state/run" "$state/tmp"
    cat >"$state/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$state/storage"
runroot = "$state/run"
EOF
    # crun fails here ("cgroups in hybrid mode not supported"): runc. `podman run` needs default ulimits
    # below the host's hard limits ("error setting rlimit type 7").
    cat >"$state/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
EOF
}

print_env() {
    echo "export CONTAINERS_STORAGE_CONF='$state/storage.conf'"
    echo "export CONTAINERS_CONF='$state/containers.conf'"
    echo "export TMPDIR='$state/tmp'"
}

write_config
if [[ "${1:-}" == "--env" ]]; then
    print_env
    exit 0
fi
eval "$(print_env)"

log() { echo "make_base_images: $*" >&2; }

needed=()
for tool in buildah podman skopeo runc fuse-overlayfs debuerreotype-init; do
    command -v "$tool" >/dev/null || needed+=("$tool")
done
if ((${#needed[@]})); then
    log "installing the engine (missing: ${needed[*]})"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq buildah podman skopeo runc fuse-overlayfs debuerreotype uidmap >"$state/apt.log" 2>&1 ||
        { cat "$state/apt.log" >&2; exit 1; }
fi

have_image() { podman image exists "docker.io/library/debian:$1" 2>/dev/null; }

if have_image bookworm && have_image bookworm-slim; then
    log "debian:bookworm and debian:bookworm-slim already present in $state"
    exit 0
fi

started=$SECONDS
work="$state/rootfs"
rm -rf "$work"
mkdir -p "$work"
rootfs="$work/bookworm"

log "debootstrap of bookworm into $rootfs"
debuerreotype-init --non-debian "$rootfs" bookworm http://deb.debian.org/debian >"$work/init.log" 2>&1 ||
    { tail -n 40 "$work/init.log" >&2; exit 1; }
debuerreotype-minimizing-config "$rootfs"
# debuerreotype-debian-sources-list would name snapshot.debian.org, which is not reachable from here.
rm -f "$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
debuerreotype-apt-get "$rootfs" update -qq
debuerreotype-apt-get "$rootfs" full-upgrade -yqq >"$work/upgrade.log" 2>&1 ||
    { tail -n 40 "$work/upgrade.log" >&2; exit 1; }
# Outgoing HTTPS is re-signed by a local CA that the host trusts: builds that install ca-certificates
# (pip, npm, cargo over HTTPS) trust it too. The certificate stays in this private image, never in git.
mkdir -p "$rootfs/usr/local/share/ca-certificates"
shopt -s nullglob
for cert in /usr/local/share/ca-certificates/*.crt; do
    cp "$cert" "$rootfs/usr/local/share/ca-certificates/"
done
shopt -u nullglob
debuerreotype-recalculate-epoch "$rootfs"
cp -a "$rootfs" "$rootfs-slim"
debuerreotype-slimify "$rootfs-slim"

for variant in bookworm bookworm-slim; do
    tar="$work/$variant.tar"
    debuerreotype-tar --exclude ./etc/machine-id "$work/$variant" "$tar"
    podman rmi -f "docker.io/library/debian:$variant" >/dev/null 2>&1 || true
    podman import --quiet \
        --change 'CMD ["bash"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        "$tar" "docker.io/library/debian:$variant" >/dev/null
done
rm -rf "$work"
log "built debian:bookworm and debian:bookworm-slim in $((SECONDS - started)) s"
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep 'library/debian' >&2
