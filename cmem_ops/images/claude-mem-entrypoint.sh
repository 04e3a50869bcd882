#!/bin/sh
# cmem-ops' claude-mem entrypoint: `server` (HTTP only) or `worker` (generation), or any bundle command.
# Secrets (CLAUDE_MEM_SERVER_DATABASE_URL, CLAUDE_MEM_REDIS_URL, provider keys) come from a 0600
# file mounted at $CLAUDE_MEM_SECRETS_FILE, read here as root and exported to the bundle only: they
# are never in the image, the container's Env or Cmd, nor any argv. Then the bundle runs as uid 10001.
set -eu
SECRETS="${CLAUDE_MEM_SECRETS_FILE:-/run/secrets/claude-mem.env}"
if [ -r "$SECRETS" ]; then
    set -a
    # shellcheck source=/dev/null
    . "$SECRETS"
    set +a
fi
# `server` alone: the HTTP service; `worker` alone: a generation worker; anything else is a bundle
# command (`server api-key create ...`, `server jobs list`), run the same way.
if [ "$#" -eq 0 ] || { [ "$#" -eq 1 ] && [ "$1" = server ]; }; then
    set -- start
elif [ "$#" -eq 1 ] && [ "$1" = worker ]; then
    set -- worker start
elif [ "$1" = healthcheck ]; then
    exec wget -q -O /dev/null "http://127.0.0.1:${CLAUDE_MEM_SERVER_PORT:-37877}/healthz"
fi
BUN=/opt/bun/bun
BUNDLE=/opt/claude-mem/node_modules/claude-mem/plugin/scripts/server-service.cjs
cd /opt/claude-mem
# claude-mem appends its log to <data dir>/logs/claude-mem-YYYY-MM-DD.log (UTC day). Point the next
# 400 days at each process's own stderr, so the services' lines reach `docker logs` (and `cmem-ops
# stack logs --docker`) and a one-shot command's stdout stays its JSON. Root only: the stderr pipe is
# handed to uid 10001 first.
link_logs() {
    # This shell's stderr, which bun inherits. No redirection here: busybox runs chown inside the
    # shell itself, so `2>/dev/null` would make fd 2 /dev/null while it runs.
    chown 10001:10001 "/proc/$$/fd/2" || return 0
    mkdir -p "$CLAUDE_MEM_DATA_DIR/logs"
    chown 10001:10001 "$CLAUDE_MEM_DATA_DIR/logs"
    cd "$CLAUDE_MEM_DATA_DIR/logs"
    awk 'BEGIN { t = systime(); for (i = 0; i < 400; i++) print strftime("%Y-%m-%d", t + i * 86400, 1) }' |
        while read -r day; do
            [ -L "claude-mem-$day.log" ] || ln -sfn /proc/self/fd/2 "claude-mem-$day.log"
        done
}
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$CLAUDE_MEM_DATA_DIR"
    chown 10001:10001 "$CLAUDE_MEM_DATA_DIR"
    link_logs
    cd /opt/claude-mem
    # busybox su as root: no password, the environment kept (-p), and exec all the way down, so bun
    # is this same process (pid 1 for the services). Its argv holds no secret.
    # shellcheck disable=SC2016  # $0 and $@ are for the inner shell
    # `--` first: su must not read the bundle's options (--no-install, --scope) as its own.
    exec su -p -s /bin/sh -c 'exec "$0" "$@"' -- claude-mem "$BUN" --no-install "$BUNDLE" "$@"
fi
exec "$BUN" --no-install "$BUNDLE" "$@"
