#!/bin/sh
# cmem-ops bootstrap for macOS and Linux.
#
# Puts cmem-ops in its own virtual environment, links the command into ~/.local/bin, then runs
# `cmem-ops install` with the arguments given after `--` (see `cmem-ops install --help`).
#
#   sh install.sh                               # interactive: asks before installing anything
#   sh install.sh -- --non-interactive --install-redis
#   sh install.sh -- --dry-run --explain        # show the decision and the plan, change nothing
#
# Options:
#   --spec SPEC      what pip installs (default: cmem-ops; a version pin, a path or a wheel file)
#   --prefix DIR     where the virtual environment goes (default: ~/.cmem-ops)
#   --python PATH    the Python >= 3.11 to build it with (default: the newest python3.x found)
#   --no-run         set up cmem-ops but do not run `cmem-ops install`
# Environment: CMEM_OPS_SPEC, CMEM_OPS_PREFIX, PYTHON set the same defaults.
#
# It never uses sudo itself. Exit codes: 0 ok; 2 usage; 3 no suitable Python; 4 venv/pip failed;
# otherwise the exit code of `cmem-ops install`.
set -eu

spec="${CMEM_OPS_SPEC:-cmem-ops}"
prefix="${CMEM_OPS_PREFIX:-${HOME}/.cmem-ops}"
python="${PYTHON:-}"
run_install=1

say() { printf '%s\n' "$*" >&2; }
die() { code="$1"; shift; say "error: $*"; exit "$code"; }

while [ "$#" -gt 0 ]; do
    case "$1" in
        --spec) [ "$#" -ge 2 ] || die 2 "--spec needs a value"; spec="$2"; shift 2 ;;
        --prefix) [ "$#" -ge 2 ] || die 2 "--prefix needs a value"; prefix="$2"; shift 2 ;;
        --python) [ "$#" -ge 2 ] || die 2 "--python needs a value"; python="$2"; shift 2 ;;
        --no-run) run_install=0; shift ;;
        --) shift; break ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) die 2 "unknown option $1 (arguments for cmem-ops install go after --)" ;;
    esac
done

python_ok() {
    "$1" -c 'import sys; raise SystemExit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

if [ -z "$python" ]; then
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then
            python="$(command -v "$candidate")"
            break
        fi
    done
fi
if [ -z "$python" ] || ! python_ok "$python"; then
    say "hint: install Python 3.11 or newer (macOS: brew install python@3.12; Debian/Ubuntu: sudo apt-get install python3 python3-venv), then rerun"
    die 3 "no Python >= 3.11 found${python:+ ($python is older or broken)}"
fi

venv="$prefix/venv"
if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv with $python"
    mkdir -p "$prefix"
    if ! "$python" -m venv "$venv"; then
        say "hint: on Debian/Ubuntu the venv module is a separate package: sudo apt-get install python3-venv"
        die 4 "could not create the virtual environment $venv"
    fi
fi

say "installing $spec into $venv"
if ! "$venv/bin/python" -m pip install --quiet --upgrade "$spec"; then
    say "hint: check the network or the spec: $venv/bin/python -m pip install --upgrade '$spec'"
    die 4 "pip could not install $spec"
fi

bindir="${HOME}/.local/bin"
mkdir -p "$bindir"
ln -sf "$venv/bin/cmem-ops" "$bindir/cmem-ops"
case ":${PATH}:" in
    *":$bindir:"*) ;;
    *) say "note: add $bindir to PATH to run cmem-ops directly (it is at $venv/bin/cmem-ops)" ;;
esac

if [ "$run_install" -eq 0 ]; then
    say "cmem-ops is ready: $venv/bin/cmem-ops install"
    exit 0
fi
exec "$venv/bin/cmem-ops" install "$@"
