"""What every service function gets: resolved paths, settings and the subprocess runner."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple

from .errors import ConfigError
from .paths import Paths
from .runner import Runner, SubprocessRunner
from .settings import Settings, load_settings


class Context(NamedTuple):
    """Inputs of one command; rebuild it after settings change (it is a snapshot)."""

    paths: Paths
    settings: Settings
    runner: Runner

    def reload(self) -> Context:
        """A fresh snapshot of settings after we wrote settings.json."""
        return Context(self.paths, load_settings(self.paths, self.settings.env), self.runner)


def build_context(env: Mapping[str, str] | None = None, runner: Runner | None = None, *,
                  tolerate_bad_settings: bool = False) -> Context:
    """Resolve paths and settings from `env` (default: the process environment).

    With `tolerate_bad_settings` (the doctor), a malformed settings.json is read as empty instead of
    raising, so the checks still run and the files probe reports the file and line.
    """
    env = dict(os.environ if env is None else env)
    paths = Paths.from_env(env)
    try:
        settings = load_settings(paths, env)
    except ConfigError:
        if not tolerate_bad_settings:
            raise
        settings = Settings(paths=paths, env=env, file_values={})
    return Context(paths, settings, runner or SubprocessRunner())
