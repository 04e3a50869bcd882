"""The Docker engine and `docker compose`: the only package that talks to Docker.

    engine.py    the `docker` SDK: read_engine / Engine.connect, RunSpec (build_run_kwargs, format_run_argv),
                 containers, volumes, images (list, pull, import, build); parse_container
    compose.py   ComposeProject + build_*_argv (up/ps/down/logs/config), parse_compose_ps (NDJSON and
                 array shapes), compose_available, Compose (runs them with timeouts), ComposeError
"""
