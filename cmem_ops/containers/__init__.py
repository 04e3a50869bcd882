"""The Docker engine and `docker compose`: the only package that talks to Docker.

    specs.py           what a container is, as pure data: RunSpec/Mount (build_run_kwargs, format_run_argv),
                       ContainerInfo (parse_container), normalize_image_refs; no SDK
    engine.py          the `docker` SDK (its only importer): Engine.connect, Engine (containers, volumes,
                       images: list, pull, import, build), list_images / pull_image
    engine_status.py   is Docker here, does an engine answer: cli_installed, read_engine -> EngineStatus,
                       engine_answers, docker_available (never raise)
    compose_argv.py    ComposeProject + build_*_argv (up/ps/down/logs/exec/run/cp/config), format_argv;
                       pure, runs nothing
    compose_output.py  what compose prints, read in pure code: parse_compose_ps (NDJSON and array
                       shapes) -> ComposeService, parse_compose_version, format_compose_error
    compose.py         the only runner of the docker CLI: Compose (runs the argv with timeouts),
                       compose_available, ComposeError
"""
