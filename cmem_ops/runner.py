"""The one place cmem-ops runs subprocesses: argv lists, a timeout always, LC_ALL=C when parsed."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:  # subprocess (with signal, threading, selectors) loads on the first run: not on status paths
    import subprocess

from .errors import MissingError, OpsTimeoutError


class Completed(NamedTuple):
    """What a finished command returned."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """True when the command exited 0."""
        return self.returncode == 0


class Runner(Protocol):
    """Seam for running commands; tests for plans inject a recording runner."""

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        input_text: str | None = None,
    ) -> Completed: ...

    def spawn_detached(
        self,
        argv: Sequence[str],
        *,
        log: IO[bytes],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]: ...


def build_env(extra: Mapping[str, str] | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the child environment: the base (default os.environ) + LC_ALL=C + `extra` (pure)."""
    env = dict(os.environ if base is None else base)
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    if extra:
        env.update(extra)
    return env


class SubprocessRunner:
    """Runs real commands with subprocess; never uses a shell."""

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        input_text: str | None = None,
    ) -> Completed:
        """Run `argv` to completion within `timeout` seconds and capture its output."""
        import subprocess

        args = [str(a) for a in argv]
        try:
            proc = subprocess.run(
                args,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=build_env(env),
                cwd=cwd,
                input=input_text,
                stdin=None if input_text is not None else subprocess.DEVNULL,
                check=False,
            )
        except FileNotFoundError as exc:
            raise MissingError(f"`{args[0]}` is not installed or not on PATH", hint=None) from exc
        except subprocess.TimeoutExpired as exc:
            raise OpsTimeoutError(
                f"`{' '.join(args)}` did not finish within {timeout:g}s",
                hint="run it by hand to see where it stops",
            ) from exc
        return Completed(tuple(args), proc.returncode, proc.stdout, proc.stderr)

    def spawn_detached(
        self,
        argv: Sequence[str],
        *,
        log: IO[bytes],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start `argv` in its own session (it outlives us), output appended to `log`, under umask 077.

        Every child cmem-ops detaches (store, Postgres, server, worker) writes under the data dir, and
        what it creates itself (Valkey's appendonlydir, its RDB) would follow the caller's umask,
        often 022: with 077 all of it is 0700/0600 like what cmem-ops writes.
        """
        import subprocess

        args = [str(a) for a in argv]
        # Not bounded, on purpose: the one wait here that no timeout covers is the kernel's, between
        # fork and exec. With no preexec_fn and no user/group change, CPython (3.10+) forks this child
        # with vfork: our thread is suspended until the child has run setsid/umask/dup2/close_fds and
        # called exec (microseconds), and then the exec-status pipe is already closed. That wait only
        # outlasts the window if someone stops the child inside it:
        #  - a stop of our process group (Ctrl-Z, kill -STOP -<pgid>) reaches the child only before its
        #    setsid, stops us too, and the SIGCONT that resumes the job (fg, bg, kill -CONT -<pgid>)
        #    resumes the child as well;
        #  - a `kill -STOP <pid>` aimed at the child itself needs its pid before Popen returned it, i.e.
        #    a fault injector or debugger; `kill -CONT <pid>` ends it (SIGTERM/SIGKILL end us: the vfork
        #    wait is killable).
        # Bounding it would mean spawning from a helper thread and giving up on a child whose pid we do
        # not know yet: once resumed it would exec a server with no PID record, started by nobody, which
        # is worse than a wait that the resuming signal ends. Every wait after Popen returns is bounded.
        try:
            return subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=build_env(env),
                cwd=cwd,
                start_new_session=True,
                close_fds=True,
                umask=0o077,  # set in the child between fork and exec: ours is untouched
            )
        except FileNotFoundError as exc:
            raise MissingError(f"`{args[0]}` is not installed or not on PATH") from exc
