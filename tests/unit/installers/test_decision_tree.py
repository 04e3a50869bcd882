"""The install decision tree on captured hosts, with a scripted prompter; nothing here starts a server."""

from __future__ import annotations

import json

import pytest

from cmem_ops.context import build_context
from cmem_ops.errors import MissingError, OpsError
from cmem_ops.installers.base import ProviderName
from cmem_ops.lifecycle.install import MENU, install
from cmem_ops.lifecycle.install_options import InstallAction, InstallOptions, InstallUI
from cmem_ops.result import build_envelope, to_jsonable

from .conftest import captured, which_of


class Script:
    """A prompter that answers from a list and records what it was asked."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.asked = []

    def choose(self, question, options, default):
        self.asked.append(("choose", question, tuple(options)))
        return self.answers.pop(0)

    def ask(self, question):
        self.asked.append(("ask", question))
        return self.answers.pop(0)

    def confirm_plan(self, plan):
        self.asked.append(("confirm", plan.provider))
        return self.answers.pop(0)


@pytest.fixture
def ctx(tmp_path):
    return build_context(env={"HOME": str(tmp_path), "CLAUDE_MEM_DATA_DIR": str(tmp_path / "data")})


def tty_host(tree="debian12", **kw):
    import dataclasses
    return dataclasses.replace(captured(tree, **kw), stdin_tty=True)


def test_non_interactive_nothing_found_names_the_exact_command(ctx):
    host = captured("debian12", root=True, tools=("apt-get",))
    with pytest.raises(MissingError) as info:
        install(ctx, InstallOptions(ignore_local=True), host=host, which=which_of("apt-get"))
    assert info.value.hint == ("cmem-ops install --non-interactive --install-redis --provider tarball   "
                               "(installs Valkey 9.1.2 (official tarball))")
    assert not ctx.paths.data_dir.exists()


def test_the_hint_lists_package_manager_commands_with_sudo(ctx):
    tools = ("apt-get", "sudo")
    host = captured("debian13", tools=tools)
    with pytest.raises(MissingError) as info:
        install(ctx, InstallOptions(ignore_local=True, non_interactive=True), host=host, which=which_of(*tools))
    assert info.value.hint == (
        "cmem-ops install --non-interactive --install-redis --provider apt   (installs Valkey 8.1 (Debian 13 "
        "(trixie) package valkey-server): sudo apt-get update; sudo env DEBIAN_FRONTEND=noninteractive apt-get "
        "install -y --no-install-recommends valkey-server)")


def test_nothing_installable_points_at_a_url_or_sqlite(ctx):
    host = captured("macos14", system="Windows", tools=("docker",), docker=False)
    with pytest.raises(MissingError) as info:
        install(ctx, InstallOptions(ignore_local=True), host=host, which=which_of("docker"))
    assert info.value.hint.startswith("cmem-ops install --non-interactive --redis-url redis://HOST:PORT   "
                                      "(nothing can install a server here: docker: the Docker engine is not running")


def test_dry_run_plans_without_writing(ctx):
    host = captured("debian12", root=True, tools=("apt-get",))
    result = install(ctx, InstallOptions(ignore_local=True, dry_run=True), host=host, which=which_of("apt-get"))
    assert result.dry_run and result.action is InstallAction.INSTALLED
    assert result.plan is not None and result.plan.provider is ProviderName.TARBALL
    assert result.settings["CLAUDE_MEM_QUEUE_ENGINE"] == "bullmq"
    assert not ctx.paths.data_dir.exists()


def test_menu_keep_sqlite(ctx):
    script = Script(2)
    result = install(ctx, InstallOptions(ignore_local=True), InstallUI(prompter=script), host=tty_host(),
                     which=which_of())
    assert script.asked[0][2] == MENU and result.action is InstallAction.SQLITE
    assert json.loads(ctx.paths.settings_file.read_text()) == {"CLAUDE_MEM_QUEUE_ENGINE": "sqlite"}


def test_menu_manage_declined_changes_nothing(ctx):
    script = Script(0, False)
    with pytest.raises(OpsError, match="cancelled"):
        install(ctx, InstallOptions(ignore_local=True), InstallUI(prompter=script), host=tty_host(),
                which=which_of())
    assert script.asked[1] == ("confirm", ProviderName.TARBALL)
    assert not ctx.paths.data_dir.exists()


def test_menu_url_that_does_not_answer_is_refused(ctx):
    script = Script(1, "redis://127.0.0.1:9/0")
    with pytest.raises(OpsError, match="tcp: cannot connect"):
        install(ctx, InstallOptions(ignore_local=True), InstallUI(prompter=script), host=tty_host(),
                which=which_of())
    assert not ctx.paths.settings_file.exists()


def test_non_interactive_flag_beats_a_tty(ctx):
    with pytest.raises(MissingError):
        install(ctx, InstallOptions(ignore_local=True, non_interactive=True), InstallUI(prompter=Script()),
                host=tty_host(), which=which_of())


def test_install_envelope_keys_are_pinned(ctx):
    host = captured("debian12", root=True, tools=("apt-get",))
    result = install(ctx, InstallOptions(ignore_local=True, dry_run=True), host=host, which=which_of("apt-get"))
    envelope = build_envelope("install", True, result)
    assert list(envelope) == ["schema", "command", "ok", "data"]
    assert list(to_jsonable(result)) == ["action", "dry_run", "interactive", "queue_engine", "mode", "url", "binary",
                                         "provider", "plan", "would_install", "choices", "settings", "host",
                                         "started", "pid", "port", "messages"]
    assert list(envelope["data"]["plan"]) == ["provider", "steps", "notes", "product", "flavour", "version",
                                              "binary", "mode"]
    assert list(envelope["data"]["plan"]["steps"][0]) == ["argv", "needs_root", "description", "kind"]
    assert list(envelope["data"]["choices"][0]) == ["provider", "available", "reason", "chosen", "product"]
