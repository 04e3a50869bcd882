"""Health probes: one module per concern, each returning ProbeResult values (base.py).

    base.py            ProbeResult, Status, Group
    redis_conn.py      TCP connect, PING/AUTH, the INFO/CONFIG snapshot; diagnose(): a server's reply -> cause + fix
    redis_checks.py    pure verdicts over a snapshot: version, eviction policy, persistence, memory,
                       clients, latency, exposure, Dragonfly flags
    lua.py             EVAL "return 1" 0 (BullMQ is all Lua)
    bullmq.py          BullMQ smoke job in a unique prefix (Node bullmq 5.x, else the Python port)
    bullmq_node.py     runs the pinned Node project under probes/bullmq-smoke
    bullmq_python.py   the same smoke with the Python bullmq port
    smoke.py           SmokeOutcome and argument rules shared by both smoke clients
    postgres.py        connect, server version, claude-mem schema present
    http.py            the server's /healthz, /v1/info, /api/health, an authenticated read
    files.py           data dir writable, PID files match our live processes, logs, settings.json
    stack.py           server and worker processes ours and alive, one queue prefix, stuck jobs, /v1/info hangs
"""
