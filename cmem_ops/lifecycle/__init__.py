"""Services that start, stop and report on the parts of the claude-mem stack.

    store.py         the queue store: managed (ours), external (a URL) or docker; status
    store_control.py start / stop / restart / up's store step, each decided under the one store lock
    store_plan.py    what a start needs, validated before anything is stopped or written
    store_acl.py     `cmem-ops store acl`: a least-privilege ACL user for claude-mem's queue prefix
    postgres.py      the managed Postgres cluster, or an external database URL
    stack_config.py  what the server and worker processes run with, persisted in settings.json
    prestart.py      checks before a server or worker starts (runtime, settings, dependencies)
    bundle.py        processes of claude-mem's server bundle: spawn with an identity, find ours, stop ours
    server.py        the claude-mem HTTP server process
    worker.py        claude-mem's generation workers
    keys.py          API keys through the server bundle's Postgres path
    stack.py         the whole stack in start order, and down in reverse
    summary.py       the one-screen `cmem-ops status`
    watch.py         `cmem-ops status --watch`: that screen redrawn every second, with per-lane rates
    upgrade.py       switch the managed store to another server binary, verified, rolled back on failure
    support_bundle.py  one archive for a bug report, every secret removed
    support_bundle_docker.py  the docker stack's part of it (compose ps, logs, compose files, state.json)
    up.py            `cmem-ops up`: the queue store, then the doctor
    install.py       `cmem-ops install`: the decision tree for getting a queue store
    install_options.py  its inputs and outputs: options, the prompter seam, the result
    url_check.py     is a URL a usable BullMQ queue store (the doctor's own store checks)
    docker_stack.py  the same stack in containers (compose/stack.yml): up / status / logs / down
    docker_stack_config.py   its pure decisions: state, secrets, images, compose variables
    docker_stack_project.py  this data dir's stack files and the Compose bound to them
    docker_stack_ready.py    waits that name the service that did not come up, with its log tail
    uninstall.py     `cmem-ops uninstall`
"""
