"""What every service function gets: resolved paths, settings and the subprocess runner."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from .paths import Paths
from .runner import Runner, SubprocessRunner
from .settings import Settings, load_settings


@dataclass(frozen=True)
class Context:
    """Inputs of one command; rebuild it after settings change (it is a snapshot)."""

    paths: Paths
    settings: Settings
    runner: Runner

    def reload(self) -> Context:
        """A fresh snapshot of settings after we wrote settings.json."""
        return Context(self.paths, load_settings(self.paths, self.settings.env), self.runner)


def build_context(env: Mapping[str, str] | None = None, runner: Runner | None = None) -> Context:
    """Resolve paths and settings from `env` (default: the process environment)."""
    env = dict(os.environ if env is None else env)
    paths = Paths.from_env(env)
    return Context(paths, load_settings(paths, env), runner or SubprocessRunner())
