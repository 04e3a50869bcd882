"""cmem-ops: make claude-mem's server stack just work, and say exactly what is wrong when it does not.

Foundations (import nothing above them):
    errors.py      OpsError(message, hint) and its families, each with an exit code
    exit_codes.py  ExitCode, the CLI's closed set of exit codes
    result.py      the versioned JSON envelope of every --json command
    runner.py      the one wrapper around subprocesses (argv only, timeouts, LC_ALL=C)
    paths.py       the data-dir layout (~/.claude-mem) and private-file writes
    settings.py    env > settings.json > defaults, compatible with claude-mem; atomic key writes
    redis_url.py   redis:// and rediss:// parsing and redaction
    context.py     paths + settings + runner handed to every service
Building blocks:
    resp.py        a small RESP client with hard deadlines
    pidfile.py     PID records that prove identity (start time + token)
    supervisor.py  wait-for-ready with one deadline, stop by identity
    logs.py        dated logs across day boundaries
    store/         the managed queue store: binaries, config, ports, process, status
    probes/        health probes (see probes/__init__.py)
Services:
    lifecycle/     start/stop/status of the store (and later the server stack)
CLI:
    cli/           typer wiring only
"""

__version__ = "0.1.0"
