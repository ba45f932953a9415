#!/usr/bin/env bash
# CI, once (not under each Python): the Dockerfile and docker-compose.yml built and run for real by
# tests/test_docker.py. No image can be pulled on these machines and their network must stay as it is,
# so this installs Debian's docker.io, docker-compose (v1) and debootstrap when missing, starts a dockerd
# of its own (no bridge, no iptables rules, no IP forwarding) on a socket of its own, makes
# debian:bookworm-slim with debootstrap (kept between runs, as is the daemon's build cache), runs the
# test with ATTENDANCE_REQUIRE_DOCKER=1 (a missing daemon fails it instead of skipping it), and stops
# that dockerd by its PID whatever happens.
# Usage: .ci/docker.sh [PYTHON]   (default .venv/bin/python, with requirements-dev.txt installed)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-.venv/bin/python}
started=$SECONDS
state=/var/lib/attendance-bot-ci  # kept between runs: the base image's tarball, the daemon's images and cache
run=/run/attendance-bot-ci
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
    echo "=== installing ${missing[*]} ==="
    # No service may start while they install: docker.io's init script would start a dockerd with its
    # bridge and iptables rules. policy-rc.d (exit 101) says so to invoke-rc.d, for this install only.
    policy=/usr/sbin/policy-rc.d
    added_policy=""
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy"
        added_policy=1
    fi
    status=0
    $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
        "${missing[@]}" || status=$?
    if [ -n "$added_policy" ]; then $sudo rm -f "$policy"; fi
    [ "$status" -eq 0 ] || exit "$status"
fi

$sudo mkdir -p "$state" "$run"
socket="$run/docker.sock"
echo "=== starting dockerd (no bridge, no iptables, no IP forwarding; $socket) ==="
$sudo dockerd --host "unix://$socket" --data-root "$state/docker" --exec-root "$run/exec" \
    --pidfile "$run/dockerd.pid" --iptables=false --ip-forward=false --bridge=none \
    >"$run/dockerd.log" 2>&1 &
dockerd_pid=$!
stop_dockerd() {
    # The containers a failed test may have left go first: with `restart: unless-stopped` they would
    # come back at the next start of this daemon.
    docker ps --all --quiet | xargs --no-run-if-empty docker rm --force >/dev/null 2>&1 || true
    $sudo kill -TERM "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 1 150); do
        kill -0 "$dockerd_pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$dockerd_pid" 2>/dev/null; then
        echo "dockerd did not stop within 30 s: killing it" >&2
        $sudo kill -KILL "$dockerd_pid" 2>/dev/null || true
    fi
    wait "$dockerd_pid" 2>/dev/null || true
}
trap stop_dockerd EXIT
export DOCKER_HOST="unix://$socket"
for _ in $(seq 1 150); do
    docker version >/dev/null 2>&1 && break
    if ! kill -0 "$dockerd_pid" 2>/dev/null; then
        echo "dockerd exited:" >&2; tail -n 30 "$run/dockerd.log" >&2; exit 1
    fi
    sleep 0.2
done
docker version --format 'dockerd {{.Server.Version}}, client {{.Client.Version}}'

# debian:bookworm-slim, made here: debootstrap's minbase from the machine's own Debian mirror, set up as
# the official slim image is (no manuals, documentation or translations; apt keeps no caches; services
# never started by apt inside a build). BASE_RECIPE names this recipe: a base made by another is made anew.
BASE_RECIPE=2
base_label='{{index .Config.Labels "attendance-bot-ci.base"}}'
if [ "$(docker image inspect --format "$base_label" debian:bookworm-slim 2>/dev/null)" != "$BASE_RECIPE" ]; then
    tarball="$state/debian-bookworm-slim-$BASE_RECIPE.tar"
    if [ ! -s "$tarball" ]; then
        echo "=== making debian:bookworm-slim with debootstrap --variant=minbase ==="
        mirror=$(apt-get indextargets --format '$(REPO_URI)' 'Identifier: Packages' 'Codename: bookworm' \
            'Origin: Debian' 2>/dev/null | head -n 1)
        root=$(mktemp -d)
        $sudo debootstrap --variant=minbase bookworm "$root" ${mirror:+"$mirror"} >"$run/debootstrap.log" 2>&1 \
            || { tail -n 30 "$run/debootstrap.log" >&2; exit 1; }
        $sudo tee "$root/usr/sbin/policy-rc.d" >/dev/null <<'POLICY'
#!/bin/sh
exit 101
POLICY
        $sudo chmod 755 "$root/usr/sbin/policy-rc.d"
        $sudo tee "$root/etc/dpkg/dpkg.cfg.d/docker" >/dev/null <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
DPKG
        $sudo tee "$root/etc/apt/apt.conf.d/docker-clean" >/dev/null <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
        echo 'Acquire::Languages "none";' | $sudo tee "$root/etc/apt/apt.conf.d/docker-no-languages" >/dev/null
        echo 'Acquire::GzipIndexes "true";' | $sudo tee "$root/etc/apt/apt.conf.d/docker-gzip-indexes" >/dev/null
        echo 'Apt::AutoRemove::SuggestsImportant "false";' \
            | $sudo tee "$root/etc/apt/apt.conf.d/docker-autoremove-suggests" >/dev/null
        $sudo find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
        $sudo rm -rf "$root"/usr/share/{man,info,locale,lintian}/* "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
            "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log "$root"/var/log/apt/*
        $sudo tar --numeric-owner -C "$root" -cf "$tarball.part" . && $sudo mv "$tarball.part" "$tarball"
        $sudo rm -rf "$root"
        $sudo find "$state" -maxdepth 1 -name 'debian-bookworm-slim-*.tar' -not -name "${tarball##*/}" -delete
    fi
    docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' --change "LABEL attendance-bot-ci.base=$BASE_RECIPE" \
        "$tarball" debian:bookworm-slim >/dev/null
fi
echo "=== base image ready ($((SECONDS - started)) s) ==="

# The test: build, demo in the container, Compose up, a /here recorded, down and up again.
ATTENDANCE_REQUIRE_DOCKER=1 "$python" -m pytest -q tests/test_docker.py
echo "=== Docker and Compose passed in $((SECONDS - started)) s ==="
