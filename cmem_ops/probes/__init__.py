"""Health probes: one module per concern, each returning ProbeResult values (base.py).

    base.py            ProbeResult, Status, Group
    redis_conn.py      TCP connect, PING/AUTH, the INFO/CONFIG snapshot; diagnose(): a server's reply -> cause + fix
    redis_checks.py    pure verdicts over a snapshot: version, eviction policy, persistence, memory,
                       clients, latency, exposure, Dragonfly flags
    lua.py             EVAL "return 1" 0 (BullMQ is all Lua)
    topology.py        primary, replica, cluster node or Sentinel (claude-mem needs a primary)
    tls.py             rediss:// verified as Node verifies it; handshake time vs the 1000 ms connect timeout
    acl.py             an ACL user's rights on the queue prefix (ACL DRYRUN, else an aborted MULTI)
    hosted.py          hosted providers from the host name: their policy fix and durability story
    bullmq.py          BullMQ smoke job in a unique prefix (Node bullmq 5.x, else the Python port)
    bullmq_node.py     runs the pinned Node project under probes/bullmq-smoke
    bullmq_python.py   the same smoke with the Python bullmq port
    smoke.py           SmokeOutcome and argument rules shared by both smoke clients
    postgres.py        connect, server version, claude-mem schema present
    http.py            the server's /healthz, /v1/info, /api/health, an authenticated read
    files.py           data dir writable, PID files match our live processes, logs, settings.json
    queue.py           queue health: backlog with no live worker, failed jobs, Postgres/BullMQ divergence
    stack.py           server and worker processes ours and alive, one queue prefix, stuck jobs, /v1/info hangs
    docker_stack.py    the docker stack (CLAUDE_MEM_STACK=docker): containers, PING/policy/pg_isready inside them
    docker_queue.py    the docker stack's queue group: queue.py's judges on lanes read by valkey-cli in its store
"""
