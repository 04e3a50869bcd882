"""The claude-mem server runtime: a private, pinned npm install of claude-mem (+ bun) under the data dir.

    pins.json   versions are data: claude-mem's default version, the better-auth family pins, bun per platform
    pins.py     load pins.json (pure) into typed records
    locate.py   Runtime (bundle + interpreter, `argv(...)`), find_runtime(paths), the install manifest
    install.py  plan_install (pure argv steps) and install_runtime (npm into a temp dir, verify, swap into place)

Layout: <data dir>/runtime/claude-mem/<version>/{npm,bun}/node_modules/..., runtime.json (the manifest),
and <data dir>/runtime/claude-mem/current (the active version).
"""
