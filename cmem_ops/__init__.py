"""cmem-ops: make claude-mem's server stack just work, and say exactly what is wrong when it does not.

Dependencies point one way: cli -> services -> building blocks -> foundations. Nothing imports cli.

Foundations:
    errors.py      OpsError(message, hint) and its families, each with an exit code
    exit_codes.py  ExitCode, the CLI's closed set of exit codes
    result.py      the versioned JSON envelope of every --json command (secrets redacted)
    redaction.py   strip passwords and API keys from any text we print
    runner.py      the one wrapper around subprocesses (argv only, timeouts, LC_ALL=C)
    paths.py       the data-dir layout (~/.claude-mem) and private-file writes
    filelock.py    portable exclusive file locks
    settings.py    env > settings.json > defaults, compatible with claude-mem; atomic key writes
    redis_url.py   redis:// and rediss:// parsing and redaction
    tlstrust.py    the TLS trust claude-mem's Node has: system CAs + NODE_EXTRA_CA_CERTS, hostname checked
    context.py     paths + settings + runner handed to every service
Building blocks:
    resp.py        RESP2 as pure code: encode, incremental reply parser, RespError subclasses by cause
    store_client.py  the one bounded, authenticated connection to a Redis-compatible server (open_store)
    store_answer.py  what answered at an address (ask -> Answer) and why it failed (Failure)
    http_client.py the one HTTP client (probes, claude-mem's API, e2e, downloads): bounded, closed failure kinds
    versions.py    every version comparison (packaging: a beta sorts before its release)
    pidfile.py     PID records that prove identity (start time + token)
    supervisor.py  wait-for-ready with one deadline, stop by identity
    logs.py        dated logs across day boundaries
    host/          OS, distro, arch, root/sudo/TTY and Docker detection (injectable root)
    store/         the managed queue store: binaries, config, ports, identity (from /proc), state, process,
                   shutdown, status
    pgcluster/     the managed Postgres cluster: binaries, OS user, config, initdb/pg_ctl
    runtime/       the claude-mem server runtime (npm package + bun) under <data dir>/runtime
    claudemem/     what claude-mem's server needs: environment, validation rules, HTTP API, API keys,
                   the Redis commands its queue runs (queue_commands.py), its Docker rules (docker_rules.py)
    containers/    the only Docker code: container specs (pure), the engine through the `docker` SDK
                   (engine.py; engine_status.py: does one answer), `docker compose` argv and output
                   parsers (compose_argv.py, compose_output.py: pure) run by compose.py
    probes/        health probes, one module per concern (see probes/__init__.py)
Services:
    doctor/        run every probe concurrently under one deadline; the exit-code rule
    installers/    providers (brew, apt, dnf, apk, pacman, tarball, docker, wheel), plan/select/apply
    lifecycle/     store, postgres, server, worker, stack (start order, reverse stop), install, up;
                   docker_stack: the same stack in containers (compose/stack.yml), with _config (pure
                   decisions), _project (its files and Compose), _ready (waits naming a failed service)
    images/        the docker stack's images with no registry: staged root filesystems, docker import
    jobs/          stuck generation jobs: detection and recovery
    backup/        backups of the whole stack (pg_dump, checked store snapshot, manifest) and their restores
    metrics/       queue lanes, store, Postgres jobs and /healthz as Prometheus metrics (`cmem-ops metrics`);
                   its lanes.py (counts only, no prometheus_client) also feeds `status` and the queue probes
    matrix/        the compatibility matrix: targets, provisioning, per-target run, report
    e2e/           the end-to-end restart and revoke-key script against the real server (docker*.py: over
                   the docker stack)
Views and CLI:
    render/        pure format_* functions (and render_* to a rich Console)
    cli/           one argparse parser over a command table (cli/commands.py); handlers import services lazily
    schemas/       JSON Schemas of the --json envelope and of each command's data (package data)

Start-up (bench/cli_startup.py has the targets; tests/integration/test_startup_imports.py pins the causes):
    `status`, `store start|status` and `--version` import only what they use, and none of dataclasses,
    random, datetime or a third-party library. Records on those paths are typing.NamedTuple, not frozen
    dataclasses: defining a frozen dataclass costs ~1 ms (generated code is exec'd) and importing
    dataclasses ~10 ms, a third of a 100 ms `store start`. Change one with `rec._replace(...)`; a dict
    field with a default is a read-only Mapping (a NamedTuple default is shared). Elsewhere, dataclasses.
    Heavier modules are imported inside the function that needs them, with the reason in a comment.
"""

__version__ = "0.1.0"
