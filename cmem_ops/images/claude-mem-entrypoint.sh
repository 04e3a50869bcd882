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
case "${1:-server}" in
    server) set -- start ;;
    worker) shift; set -- worker start "$@" ;;
    healthcheck) exec wget -q -O /dev/null "http://127.0.0.1:${CLAUDE_MEM_SERVER_PORT:-37877}/healthz" ;;
esac
BUN=/opt/bun/bun
BUNDLE=/opt/claude-mem/node_modules/claude-mem/plugin/scripts/server-service.cjs
cd /opt/claude-mem
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$CLAUDE_MEM_DATA_DIR"
    chown 10001:10001 "$CLAUDE_MEM_DATA_DIR"
    # busybox's start-stop-daemon without -b sets the user and execs bun in this same process (pid 1).
    exec start-stop-daemon -S -q -c 10001:10001 -x "$BUN" -- --no-install "$BUNDLE" "$@"
fi
exec "$BUN" --no-install "$BUNDLE" "$@"
