"""The Docker engine and `docker compose`: the only package that talks to Docker.

    specs.py     what a container is, as pure data: RunSpec/Mount (build_run_kwargs, format_run_argv),
                 ContainerInfo (parse_container), normalize_image_refs; no SDK
    engine.py    the `docker` SDK (its only importer): read_engine / Engine.connect, Engine (containers,
                 volumes, images: list, pull, import, build), the one-call engine-status answers
    compose.py   ComposeProject + build_*_argv (up/ps/down/logs/config), parse_compose_ps (NDJSON and
                 array shapes), compose_available, Compose (runs them with timeouts), ComposeError
"""
