"""Docker and `docker compose` through the one runner: pure argv builders and parsers, thin runners.

    compose.py   ComposeProject + build_*_argv (up/ps/down/logs/config), parse_compose_ps (NDJSON and
                 array shapes), Compose (runs them with timeouts), ComposeError
    engine.py    parse_docker_info / docker_available (client present? engine answering?),
                 parse_compose_version / compose_available
"""
