"""What `stack up --docker` hands compose/stack.yml, decided in pure code.

    <data dir>/docker-stack/            0700
        state.json                      project name, server port, queue prefix, published store/Postgres
                                        ports (0: not published) (no secret)
        secrets/                        0700; each file 0600, mounted read-only as a compose secret
            valkey.conf  valkey-password  postgres-password  claude-mem.env

The project name is derived from the data dir (`cmem-<8 hex>`) and recorded in state.json: every
compose call uses it, so cmem-ops only ever touches the project it created. Passwords are made on
the first `up` and kept (the volumes keep a Postgres initialised with them) until `down --purge-data`.
The store and Postgres stay on the compose network unless CMEM_STACK_PUBLISH_STORES=1 asks for them on
127.0.0.1 (compose/stack.publish.yml; ports from CMEM_STACK_VALKEY_PORT / CMEM_STACK_POSTGRES_PORT,
else free ones), recorded in state.json for `metrics`. Backups never need them (docker compose exec).
Images: CMEM_STACK_<PART>_IMAGE when set, else the image `cmem-ops images build` made when the engine
has it, else the official default (pulled by compose where a registry is reachable).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ..claudemem.env import (
    KEY_AUTH_MODE,
    KEY_DATABASE_URL,
    KEY_ENGINE,
    KEY_LOCAL_DEV_BYPASS,
    KEY_REDIS_URL,
    KEY_RUNTIME,
)
from ..images.recipes import CLAUDE_MEM_TAG, POSTGRES_TAG, VALKEY_TAG
from ..paths import Paths
from ..store.config import quote

SERVICES = ("postgres", "valkey", "claude-mem-server", "claude-mem-worker")
WORKER = "claude-mem-worker"
SERVER = "claude-mem-server"
SERVER_CONTAINER_PORT = 37877
VALKEY = "valkey"
POSTGRES = "postgres"
POSTGRES_DB = "claude_mem"
KEY_PUBLISH = "CMEM_STACK_PUBLISH_STORES"
KEY_VALKEY_PORT = "CMEM_STACK_VALKEY_PORT"
KEY_POSTGRES_PORT = "CMEM_STACK_POSTGRES_PORT"
# The variables compose/stack*.yml require (`${VAR:?}`): a command printed for a user sets them
# (containers/compose_argv.format_by_hand). None is a secret: a directory and loopback ports.
REQUIRED_ENV = ("CMEM_STACK_SECRETS_DIR", KEY_VALKEY_PORT, KEY_POSTGRES_PORT)
PUBLISH_FILE = "stack.publish.yml"
DEFAULT_PREFIX = "claude_mem_stack"
POSTGRES_USER = "claude_mem"
SECRET_FILES = ("valkey.conf", "valkey-password", "postgres-password", "claude-mem.env")
# Where compose/stack.yml mounts those files in the containers.
SECRETS_MOUNT = "/run/secrets"
CLAUDE_MEM_ENV_FILE = f"{SECRETS_MOUNT}/claude-mem.env"  # what claude-mem's entrypoint sources
# valkey-cli in the store container, authenticated from its mounted secret, never an argv (ends in a space).
VALKEY_CLI = f'REDISCLI_AUTH="$(cat {SECRETS_MOUNT}/valkey-password)" valkey-cli --no-auth-warning '
PROVIDER_SECRET_KEYS = ("OPENROUTER_API_KEY", "CLAUDE_MEM_OPENROUTER_API_KEY", "ANTHROPIC_API_KEY",
                        "CLAUDE_MEM_ANTHROPIC_API_KEY", "GEMINI_API_KEY", "CLAUDE_MEM_GEMINI_API_KEY")


@dataclass(frozen=True)
class ImageChoice:
    """The image of one part, and where the choice came from."""

    part: str
    env: str
    image: str
    source: str  # "env" | "local" | "default"


# part -> (variable, the image `cmem-ops images build` makes, the official default)
IMAGE_TABLE: dict[str, tuple[str, str, str]] = {
    "valkey": ("CMEM_STACK_VALKEY_IMAGE", VALKEY_TAG, "valkey/valkey:9.1"),
    "postgres": ("CMEM_STACK_POSTGRES_IMAGE", POSTGRES_TAG, "postgres:17"),
    "claude-mem": ("CMEM_STACK_CLAUDE_MEM_IMAGE", CLAUDE_MEM_TAG, CLAUDE_MEM_TAG),
}


@dataclass(frozen=True)
class StackSecrets:
    """The stack's passwords (never printed, never in argv or a container's Env)."""

    valkey_password: str
    postgres_password: str


@dataclass(frozen=True)
class StackState:
    """The non-secret facts of this data dir's docker stack, kept in state.json."""

    project: str
    server_port: int
    prefix: str = DEFAULT_PREFIX
    store_port: int = 0  # 0: the store is not published on the host
    postgres_port: int = 0

    @property
    def published(self) -> bool:
        return bool(self.store_port and self.postgres_port)


def stack_dir(paths: Paths) -> Path:
    """<data dir>/docker-stack."""
    return paths.data_dir / "docker-stack"


def secrets_dir(paths: Paths) -> Path:
    """<data dir>/docker-stack/secrets (0700)."""
    return stack_dir(paths) / "secrets"


def project_name(data_dir: Path) -> str:
    """`cmem-<8 hex of the data dir>`: one compose project per data dir (pure)."""
    return "cmem-" + hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:8]


def parse_state(text: str) -> StackState | None:
    """state.json's content, or None when it is not ours (pure)."""
    try:
        data = json.loads(text)
        return StackState(str(data["project"]), int(data["server_port"]), str(data.get("prefix") or DEFAULT_PREFIX),
                          int(data.get("store_port") or 0), int(data.get("postgres_port") or 0))
    except (ValueError, KeyError, TypeError):
        return None


def format_state(state: StackState) -> str:
    """state.json's content (pure)."""
    return json.dumps({"project": state.project, "server_port": state.server_port, "prefix": state.prefix,
                       "store_port": state.store_port, "postgres_port": state.postgres_port}, indent=2) + "\n"


def wants_publish(value: str | None) -> bool:
    """CMEM_STACK_PUBLISH_STORES is on (1/true/yes) (pure)."""
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def plan_published_ports(state: StackState, publish: bool, configured: tuple[int, int],
                         free_port: Callable[[], int]) -> StackState:
    """The state with the store/Postgres host ports: kept when recorded, else configured, else free;
    both 0 when not asked to publish (pure but for `free_port`)."""
    if not publish:
        return replace(state, store_port=0, postgres_port=0)
    store = state.store_port or configured[0] or free_port()
    postgres = state.postgres_port or configured[1] or free_port()
    return replace(state, store_port=store, postgres_port=postgres)


def build_store_url(state: StackState, password: str) -> str | None:
    """redis://:PASSWORD@127.0.0.1:<published port>/0, or None when the store is not published (pure)."""
    return f"redis://:{password}@127.0.0.1:{state.store_port}/0" if state.store_port else None


def build_database_url(state: StackState, password: str) -> str | None:
    """postgres://claude_mem:PASSWORD@127.0.0.1:<published port>/claude_mem, or None when unpublished (pure)."""
    if not state.postgres_port:
        return None
    return f"postgres://{POSTGRES_USER}:{password}@127.0.0.1:{state.postgres_port}/{POSTGRES_DB}"


def choose_images(env: Mapping[str, str], present: frozenset[str]) -> list[ImageChoice]:
    """Each part's image: its variable, else the locally built one when present, else the default (pure)."""
    choices = []
    for part, (variable, local, default) in IMAGE_TABLE.items():
        if env.get(variable):
            choices.append(ImageChoice(part, variable, env[variable], "env"))
        elif local in present:
            choices.append(ImageChoice(part, variable, local, "local"))
        else:
            choices.append(ImageChoice(part, variable, default, "default"))
    return choices


def render_valkey_conf(password: str) -> str:
    """The store's config inside the stack: the managed settings, listening on the compose network (pure)."""
    return "\n".join(("# Generated by cmem-ops for the docker stack (`cmem-ops stack up --docker`).",
                      "bind 0.0.0.0", "port 6379", "protected-mode no", "dir /data", "appendonly yes",
                      "appendfsync everysec", "save 60 1", "maxmemory-policy noeviction",
                      f"requirepass {quote(password)}", ""))


def shell_quote(value: str) -> str:
    """`value` as one single-quoted POSIX shell word (pure)."""
    return "'" + value.replace("'", "'\"'\"'") + "'"


def build_secret_env(secrets: StackSecrets, provider_keys: Mapping[str, str]) -> dict[str, str]:
    """What the claude-mem entrypoint exports to the bundle from claude-mem.env (pure)."""
    env = {KEY_DATABASE_URL: f"postgres://{POSTGRES_USER}:{secrets.postgres_password}@postgres:5432/claude_mem",
           KEY_REDIS_URL: f"redis://:{secrets.valkey_password}@valkey:6379/0"}
    env.update({k: v for k, v in provider_keys.items() if k in PROVIDER_SECRET_KEYS and v})
    return env


def render_secret_env(env: Mapping[str, str]) -> str:
    """claude-mem.env: `KEY='value'` lines the entrypoint sources (pure)."""
    return "".join(f"{key}={shell_quote(value)}\n" for key, value in env.items())


def render_secret_files(secrets: StackSecrets, provider_keys: Mapping[str, str]) -> dict[str, str]:
    """Every secret file's name and content (pure)."""
    return {"valkey.conf": render_valkey_conf(secrets.valkey_password),
            "valkey-password": secrets.valkey_password,
            "postgres-password": secrets.postgres_password,
            "claude-mem.env": render_secret_env(build_secret_env(secrets, provider_keys))}


def build_compose_env(state: StackState, paths: Paths, images: list[ImageChoice], *, auth_mode: str,
                      provider: str = "", openrouter_base_url: str = "", llm_double: Path | None = None,
                      bind: str = "127.0.0.1") -> dict[str, str]:
    """The variables compose/stack.yml reads (no secret among them: those are files) (pure)."""
    env = {choice.env: choice.image for choice in images}
    env.update({"CMEM_STACK_PROJECT": state.project, "CMEM_STACK_SECRETS_DIR": str(secrets_dir(paths)),
                "CMEM_STACK_SERVER_PORT": str(state.server_port), "CMEM_STACK_BIND": bind,
                "CMEM_STACK_QUEUE_PREFIX": state.prefix, KEY_AUTH_MODE: auth_mode,
                "CMEM_STACK_PROVIDER": provider, "CMEM_STACK_OPENROUTER_BASE_URL": openrouter_base_url})
    if llm_double is not None:
        env["CMEM_STACK_LLM_DOUBLE"] = str(llm_double)
    if state.published:
        env.update({KEY_VALKEY_PORT: str(state.store_port), KEY_POSTGRES_PORT: str(state.postgres_port)})
    return env


def build_container_env(auth_mode: str, bypass: str = "") -> dict[str, str]:
    """The environment claude-mem sees in its containers, for its Docker rules (secrets as placeholders) (pure)."""
    env = {"CLAUDE_MEM_DOCKER": "1", KEY_RUNTIME: "server", KEY_ENGINE: "bullmq", KEY_AUTH_MODE: auth_mode,
           KEY_DATABASE_URL: "postgres://<from claude-mem.env>", KEY_REDIS_URL: "redis://<from claude-mem.env>"}
    if bypass:
        env[KEY_LOCAL_DEV_BYPASS] = bypass
    return env
