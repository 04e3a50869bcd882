"""claude-mem's own startup rules under Docker, in claude-mem's wording (read from the 13.25.3 bundle).

With CLAUDE_MEM_DOCKER=1 (or /.dockerenv) the bundle's validateServerEnv refuses, before it
listens, with `server startup configuration is invalid:` and one `  - ...` line per problem.
cmem-ops runs the same rules over the environment a container would get, so `stack up --docker`
refuses before any container starts and says what claude-mem would say (pure).
"""

from __future__ import annotations

from collections.abc import Mapping

from .env import KEY_AUTH_MODE, KEY_DATABASE_URL, KEY_ENGINE, KEY_LOCAL_DEV_BYPASS, KEY_REDIS_URL, KEY_RUNTIME

HEADER = "server startup configuration is invalid:"


def docker_violations(env: Mapping[str, str]) -> list[str]:
    """claude-mem's Docker-mode refusals for `env`, in the bundle's order and words (pure)."""
    problems: list[str] = []
    runtime = (env.get(KEY_RUNTIME) or "").strip()
    if runtime and runtime not in ("server", "server-beta"):
        problems.append(f"{KEY_RUNTIME}={runtime} is invalid in Docker; the server image only runs "
                        f"{KEY_RUNTIME}=server (or legacy {KEY_RUNTIME}=server-beta).")
    if (env.get(KEY_AUTH_MODE) or "api-key").strip() == "local-dev":
        problems.append(f"{KEY_AUTH_MODE}=local-dev is not allowed in Docker. Set {KEY_AUTH_MODE}=api-key and "
                        "create a key with `claude-mem server api-key create`.")
    if env.get(KEY_LOCAL_DEV_BYPASS) in ("1", "true"):
        problems.append(f"{KEY_LOCAL_DEV_BYPASS} is not allowed in Docker. Loopback bypass cannot be enforced "
                        "inside a container; remove the variable.")
    engine = (env.get(KEY_ENGINE) or "").strip().lower()
    if not engine:
        problems.append(f'{KEY_ENGINE} is required in Docker; set it to "bullmq".')
    elif engine != "bullmq":
        problems.append(f'{KEY_ENGINE}={engine} is not allowed in Docker. Only "bullmq" is supported '
                        "(no in-process queues across container boundaries).")
    if not (env.get(KEY_DATABASE_URL) or "").strip():
        problems.append(f"{KEY_DATABASE_URL} is required to start the server (Postgres connection string).")
    if engine == "bullmq" and not (env.get(KEY_REDIS_URL) or "").strip():
        problems.append(f"{KEY_REDIS_URL} is required when {KEY_ENGINE}=bullmq.")
    return problems


def format_violations(problems: list[str]) -> str:
    """The refusal as the bundle prints it (pure)."""
    return "\n".join([HEADER, *(f"  - {p}" for p in problems)])
