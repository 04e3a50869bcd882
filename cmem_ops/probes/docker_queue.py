"""The queue group over the docker stack (CLAUDE_MEM_STACK=docker): the native judges of probes/queue.py,
fed from inside the stack's containers.

    backlog <lane>, failed jobs   metrics/lanes.py's reads (plan_lane_reads + CLIENT LIST, then
                                  plan_stamp_reads when jobs wait), each round trip ONE valkey-cli in the
                                  store container (`docker compose exec`): the commands on its stdin, the
                                  password from the mounted secret file (never an argv), its --json output
                                  (one reply per line) read back by parse_cli_replies; LaneStats built by
                                  lanes.build_lane_stats, judged by judge_lane / judge_failed
    divergence                    judge_divergence over the stack's loopback publication
                                  (CMEM_STACK_PUBLISH_STORES=1); not published: SKIP saying how to publish

The judges name the docker stack's own commands as fixes (DOCKER_FIXES).
Nothing here raises for the stack: a read that fails is a result naming the docker command that shows why.
"""

from __future__ import annotations

import json
import re
import shlex
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..claudemem.env import PROVIDER_KEYS
from ..containers.compose import Compose
from ..containers.compose_argv import build_exec_argv, build_service_argv
from ..context import Context
from ..errors import OpsError
from ..lifecycle import docker_stack_config as cfg
from ..metrics import lanes as lanes_mod
from ..resp import Reply, RespError, classify_error
from .base import Group, ProbeResult, Status, Stopwatch
from .docker_stack import UP_HINT
from .queue import (
    RECOVER,
    IdleWorkers,
    QueueFixes,
    judge_divergence,
    judge_failed,
    judge_idle_workers,
    judge_lane,
    max_age,
)

SAFE_ARG = re.compile(r"[A-Za-z0-9_:.+=/-]+")
DOCKER_FIXES = QueueFixes("cmem-ops stack up --docker --workers 1", "cmem-ops stack up --docker --workers {count}",
                          f"{RECOVER} --docker", f"cmem-ops stack logs --docker {cfg.WORKER} -n 100")
# In a worker container, with claude-mem.env sourced as its entrypoint does: the provider, and which of
# the provider key variables are set (names only: no value leaves the container).
_KEY_NAMES = sorted({k for keys in PROVIDER_KEYS.values() for k in keys})
# (`.` of a missing file ends a POSIX sh, hence the -r test.)
PROVIDER_SCRIPT = (f'[ -r {cfg.CLAUDE_MEM_ENV_FILE} ] && . {cfg.CLAUDE_MEM_ENV_FILE}; '
                   'echo "CLAUDE_MEM_SERVER_PROVIDER=${CLAUDE_MEM_SERVER_PROVIDER:-}"; '
                   + "".join(f'[ -n "${{{k}:-}}" ] && echo {k}=set; ' for k in _KEY_NAMES) + "true")


def _quote_arg(arg: str) -> str:
    if SAFE_ARG.fullmatch(arg):
        return arg
    out = []
    for char in arg:
        if char in '"\\':
            out.append("\\" + char)
        elif char.isprintable() and char.isascii():
            out.append(char)
        else:
            out.extend(f"\\x{byte:02x}" for byte in char.encode())
    return '"' + "".join(out) + '"'


def format_cli_line(command: Sequence[str | int]) -> str:
    """One command as a line valkey-cli splits back into the same arguments (its "..." quoting) (pure)."""
    return " ".join(_quote_arg(str(arg)) for arg in command)


def build_cli_script(commands: Sequence[Sequence[str | int]]) -> str:
    """The sh script of the store container: every command on ONE valkey-cli's stdin, --json output (pure).

    The password comes from the mounted secret file through REDISCLI_AUTH (docker_stack_config.VALKEY_CLI),
    never an argv.
    """
    lines = " ".join(shlex.quote(format_cli_line(c)) for c in commands)
    return f"printf '%s\\n' {lines} | {cfg.VALKEY_CLI}--json"


def _to_reply(value: Any) -> Reply:
    if isinstance(value, bool) or value is None:
        return None if value is None else int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, list):
        return [_to_reply(v) for v in value]
    raise ValueError(f"not a reply: {value!r}")


def parse_cli_replies(text: str, count: int) -> tuple[list[Reply], str]:
    """The first `count` replies of `valkey-cli --json` output (one JSON value per line; an error reply is
    `error:"..."`), as resp.Reply values, and the text after them (pure; ValueError when some are missing)."""
    lines = text.split("\n")
    given = next((i for i, line in enumerate(lines[:count]) if not line), min(len(lines), count))
    if given < count:  # an empty line is no reply: --json prints null, [] and "" for the empty ones
        raise ValueError(f"valkey-cli printed {given} of the {count} replies: {text.strip()[-160:]!r}")
    replies: list[Reply] = []
    for line in lines[:count]:
        if line.startswith("error:"):
            replies.append(classify_error(json.loads(line[len("error:"):])))
            continue
        try:
            replies.append(_to_reply(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise ValueError(f"valkey-cli printed {line[:120]!r} where a reply was expected") from exc
    return replies, "\n".join(lines[count:])


def parse_cli_client_list(text: str) -> list[str] | None:
    """The client names in valkey-cli's CLIENT LIST output (printed raw even with --json); None when the
    server refused it (the text is an error, not `id=...` lines) (pure)."""
    body = text.strip()
    if body.startswith('"'):  # a valkey-cli that quotes it as a JSON string
        body = str(json.loads(body.splitlines()[0]))
    if not any(line.startswith("id=") for line in body.splitlines()):
        return None
    return lanes_mod.parse_client_names(body)


def _raise_errors(replies: list[Reply]) -> list[Reply]:
    for reply in replies:
        if isinstance(reply, RespError):
            raise reply
    return replies


def read_docker_lanes(compose: Compose, prefix: str, timeout: float, now_ms: float) -> list[lanes_mod.LaneStats]:
    """Both lanes read by valkey-cli inside the store container, in one or two execs (OpsError when the exec
    fails, RespError on an error reply, ValueError when the output cannot be read)."""
    reads = lanes_mod.plan_lane_reads(prefix)
    out = compose.exec("valkey", ["sh", "-c", build_cli_script([*reads, ("CLIENT", "LIST")])], timeout=timeout)
    replies, rest = parse_cli_replies(out, len(reads))
    lanes = lanes_mod.parse_lane_reads(prefix, lanes_mod.QUEUES, _raise_errors(replies))
    stamp_reads = lanes_mod.plan_stamp_reads(lanes)
    stamps: list[Reply] = []
    if stamp_reads:
        out = compose.exec("valkey", ["sh", "-c", build_cli_script(stamp_reads)], timeout=timeout)
        stamps = _raise_errors(parse_cli_replies(out, len(stamp_reads))[0])
    return lanes_mod.build_lane_stats(lanes, stamps, parse_cli_client_list(rest), now_ms)


def lane_probes(ctx: Context, timeout: float) -> list[ProbeResult]:
    """`backlog event`, `backlog summary` and `failed jobs`, read inside the store container."""
    from ..lifecycle.docker_stack_project import compose_for, read_state

    sw = Stopwatch()
    state = read_state(ctx)
    if state is None:
        return [ProbeResult("queue", "(none)", Status.SKIP, "not checked: no docker stack was started from this "
                            "data dir (the store group says so)", hint=UP_HINT, group=Group.QUEUE)]
    compose = compose_for(ctx, state, cfg.choose_images({}, frozenset()))
    label = f"{compose.project.name}/valkey prefix {state.prefix}"
    by_hand = compose.by_hand(build_exec_argv(compose.project, "valkey", ["sh", "-c", build_cli_script(
        lanes_mod.plan_lane_reads(state.prefix))]))
    try:
        lanes = read_docker_lanes(compose, state.prefix, timeout, time.time() * 1000)
    except OpsError as exc:  # the container is not there or not running: the store group names the cause
        why = exc.message.rpartition("` ")[2]  # compose.py's message starts with the whole argv, in the hint
        return [ProbeResult("queue", label, Status.SKIP, f"not checked: the store container did not answer: "
                            f"{why[-200:]}", hint=f"{by_hand}   (then: {UP_HINT})",
                            group=Group.QUEUE).timed(sw.ms)]
    except (RespError, ValueError) as exc:
        return [ProbeResult("queue", label, Status.FAIL, f"the lanes could not be read in the store container: "
                            f"{exc}", hint=f"see why: {by_hand}", group=Group.QUEUE).timed(sw.ms)]
    threshold = max_age(ctx)
    unserved = any(lane.workers == 0 and lane.waiting for lane in lanes)
    idle = idle_worker_containers(compose, timeout) if unserved else None
    results = [judge_lane(lane, label, threshold, idle, DOCKER_FIXES) for lane in lanes]
    return [r.timed(sw.ms) for r in [*results, judge_failed(lanes, label, DOCKER_FIXES)]]


def parse_provider_env(text: str) -> dict[str, str]:
    """PROVIDER_SCRIPT's `NAME=value` lines as a mapping; an empty value is left out (pure)."""
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs if value.strip()}


def idle_worker_containers(compose: Compose, timeout: float) -> IdleWorkers | None:
    """The running worker containers, judged from what their bundle is given (None when unreadable)."""
    try:
        running = sum(1 for s in compose.ps() if s.service == cfg.WORKER and s.running)
        env = parse_provider_env(compose.exec(cfg.WORKER, ["sh", "-c", PROVIDER_SCRIPT], timeout=timeout)) \
            if running else None
    except OpsError:  # the lane verdict stands without it
        return None
    restart = compose.by_hand(build_service_argv(compose.project, "restart", [cfg.WORKER]))
    return judge_idle_workers(running, env, restart=f"cmem-ops stack up --docker && {restart}",
                              logs=DOCKER_FIXES.worker_logs)


def divergence_probe(ctx: Context, timeout: float) -> ProbeResult:
    """judge_divergence over the loopback publication; SKIP (how to publish) when the stack is not published."""
    from ..metrics.generation import read_generation, short_error
    from ..metrics.snapshot import docker_sources
    from ..store_client import open_store

    sw = Stopwatch()
    sources = docker_sources(ctx)
    label = f"prefix {sources.prefix}"
    if sources.unreachable or sources.target is None:
        return judge_divergence(0, 0, sources.unreachable or "the store is not published", label).timed(sw.ms)
    label = f"{sources.target.address} prefix {sources.prefix}"
    try:
        with open_store(sources.target, max(min(timeout, 2.0), 0.1)) as conn:
            generation = read_generation(sources.database_url, conn, sources.prefix, max(min(timeout, 5.0), 0.5))
    except (OSError, RespError) as exc:
        return judge_divergence(0, 0, f"the published store did not answer: {short_error(exc)}", label).timed(sw.ms)
    if generation is None:
        return judge_divergence(0, 0, "the published Postgres is not known", label).timed(sw.ms)
    return judge_divergence(generation.divergent, generation.checked, generation.error, label, DOCKER_FIXES
                            ).timed(sw.ms)


def queue_probes(ctx: Context, budget: Callable[[], float]) -> list[ProbeResult]:
    """The lanes (always), then divergence; `budget()` is what one step may take, asked before each."""
    return [*lane_probes(ctx, budget()), divergence_probe(ctx, budget())]
