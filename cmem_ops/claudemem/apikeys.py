"""API keys through the server bundle's own Postgres path: `server-service.cjs server api-key create|revoke`.

claude-mem's npx CLI (`claude-mem server api-key ...`) writes keys into the local worker's SQLite,
where the server never looks (its keys get 403); the bundle's path writes to Postgres. `api-key list`
is broken upstream (`column "last_used_at" does not exist`), so it is not offered here.

A create without --team/--project bootstraps team `local-hook-team` / project `local-hook-project` and
also inserts a hidden bootstrap key; pass both to avoid that once a project exists.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import ProcessError, UsageError
from ..redaction import redact_text
from ..runner import Runner

READ_SCOPE = "memories:read"
WRITE_SCOPE = "memories:write"
FULL_SCOPES = (READ_SCOPE, WRITE_SCOPE)
CLI_TIMEOUT_S = 60.0


class BundleArgv(Protocol):
    """Anything that turns bundle arguments into an argv and its environment (runtime.Runtime does)."""

    def argv(self, *args: str) -> list[str]: ...

    def env(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class ApiKey:
    """A key as `api-key create` printed it; `key` is shown this once and never stored by claude-mem."""

    id: str
    key: str
    name: str
    team_id: str
    project_id: str
    scopes: tuple[str, ...]


def parse_json_output(stdout: str) -> dict[str, Any]:
    """The JSON object a bundle CLI call printed (anything before the first `{` is skipped) (pure)."""
    start = stdout.find("{")
    if start < 0:
        raise ValueError("no JSON object in the output")
    value, _ = json.JSONDecoder().raw_decode(stdout[start:])
    if not isinstance(value, dict):
        raise ValueError("the output is not a JSON object")
    return value


def parse_api_key(stdout: str) -> ApiKey:
    """Parse `api-key create` output: {id, key, name, teamId, projectId, scopes} (pure)."""
    data = parse_json_output(stdout)
    try:
        return ApiKey(id=str(data["id"]), key=str(data["key"]), name=str(data.get("name") or ""),
                      team_id=str(data["teamId"]), project_id=str(data["projectId"]),
                      scopes=tuple(str(s) for s in data.get("scopes") or ()))
    except KeyError as exc:
        raise ValueError(f"`api-key create` output lacks {exc.args[0]!r}") from None


def parse_revoked(stdout: str) -> str:
    """Parse `api-key revoke` output {id, status: revoked}; return the id (pure)."""
    data = parse_json_output(stdout)
    if data.get("status") != "revoked":
        raise ValueError(f"unexpected revoke status {data.get('status')!r}")
    return str(data["id"])


def normalize_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    """Split comma lists, drop blanks and duplicates, keep order (pure)."""
    seen: list[str] = []
    for item in scopes:
        for scope in item.split(","):
            scope = scope.strip()
            if scope and scope not in seen:
                seen.append(scope)
    return tuple(seen)


def build_create_args(scopes: Sequence[str], team: str | None = None, project: str | None = None,
                      name: str | None = None) -> list[str]:
    """The bundle arguments of `server api-key create` (pure)."""
    if bool(team) != bool(project):
        raise UsageError("--team and --project go together (a key is bound to one project of one team)",
                         hint="pass both, or neither to use the local-hook project")
    wanted = normalize_scopes(scopes) or (READ_SCOPE,)
    args = ["server", "api-key", "create", "--scope", ",".join(wanted)]
    if team and project:
        args += ["--team", team, "--project", project]
    if name:
        args += ["--name", name]
    return args


def _run(runner: Runner, runtime: BundleArgv, args: list[str], env: Mapping[str, str], timeout: float) -> str:
    done = runner.run(runtime.argv(*args), timeout=timeout, env={**runtime.env(), **env})
    if not done.ok:
        why = redact_text((done.stderr.strip() or done.stdout.strip() or f"exit {done.returncode}").splitlines()[-1])
        raise ProcessError(f"`server {' '.join(args[1:3])}` failed: {why}",
                           hint="check the database: cmem-ops doctor --only postgres")
    return done.stdout


def create_api_key(runner: Runner, runtime: BundleArgv, env: Mapping[str, str], scopes: Sequence[str],
                   team: str | None = None, project: str | None = None, name: str | None = None,
                   timeout: float = CLI_TIMEOUT_S) -> ApiKey:
    """Create a key in Postgres through the bundle; `env` must carry the database URL (build_cli_env)."""
    out = _run(runner, runtime, build_create_args(scopes, team, project, name), env, timeout)
    try:
        return parse_api_key(out)
    except ValueError as exc:
        raise ProcessError(f"`server api-key create` printed something unexpected: {exc}",
                           hint="run it by hand to see the output") from None


def revoke_api_key(runner: Runner, runtime: BundleArgv, env: Mapping[str, str], key_id: str,
                   timeout: float = CLI_TIMEOUT_S) -> str:
    """Revoke key `key_id` (effective on the server's next request); return the id."""
    if not key_id.strip():
        raise UsageError("an API key id is required", hint="cmem-ops server api-key revoke <id>")
    done = runner.run(runtime.argv("server", "api-key", "revoke", key_id), timeout=timeout,
                      env={**runtime.env(), **env})
    if not done.ok:
        why = redact_text(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}")
        if "not found or already revoked" in why:
            raise UsageError(f"API key {key_id} is unknown or already revoked",
                             hint="the id is the `id` printed by api-key create (not the key itself)")
        raise ProcessError(f"`server api-key revoke` failed: {why}",
                           hint="check the database: cmem-ops doctor --only postgres")
    try:
        return parse_revoked(done.stdout)
    except (ValueError, KeyError) as exc:
        raise ProcessError(f"`server api-key revoke` printed something unexpected: {exc}") from None
