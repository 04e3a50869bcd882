"""install's terminal UI: questions and answers on the terminal, a download progress bar (rich)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TransferSpeedColumn

from ..errors import OpsError
from ..installers.base import InstallPlan
from ..render.console import render_lines
from ..render.install import format_plan


class TerminalPrompter:
    """Asks on the terminal: questions to stderr, answers from stdin."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def _input(self, prompt: str) -> str:
        try:
            return self.console.input(escape(prompt))
        except EOFError:
            raise OpsError("stdin closed before an answer was given",
                           hint="answer the prompt, or run non-interactively: cmem-ops install --non-interactive",
                           ) from None

    def choose(self, question: str, options: Sequence[str], default: int) -> int:
        self.console.print(escape(question))
        for i, option in enumerate(options, 1):
            self.console.print(f"  {i}) {escape(option)}")
        for _ in range(5):
            answer = self._input(f"Choose 1-{len(options)} [{default + 1}]: ").strip()
            if not answer:
                return default
            if answer.isdigit() and 1 <= int(answer) <= len(options):
                return int(answer) - 1
            self.console.print(f"Please type a number from 1 to {len(options)}.")
        raise OpsError("no valid choice after 5 tries", hint="cmem-ops install --non-interactive --install-redis")

    def ask(self, question: str) -> str:
        return self._input(f"{question}: ")

    def confirm_plan(self, plan: InstallPlan) -> bool:
        render_lines(self.console, format_plan(plan, title="About to run"))
        answer = self._input("Proceed? [Y/n]: ").strip().lower()
        return answer in ("", "y", "yes")


def progress_bar(console: Console) -> tuple[Callable[[int, int | None], None], Callable[[], None]]:
    """A download progress callback drawing a rich bar on `console`, and its closer."""
    state: dict[str, object] = {}

    def update(done: int, total: int | None) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                           TransferSpeedColumn(), console=console, transient=True)
            bar.start()
            state["bar"] = bar
            state["task"] = bar.add_task("download", total=total)
        assert isinstance(bar, Progress)
        task = state["task"]
        assert isinstance(task, int)
        bar.update(TaskID(task), completed=done, total=total)

    def close() -> None:
        bar = state.get("bar")
        if isinstance(bar, Progress):
            bar.stop()

    return update, close
