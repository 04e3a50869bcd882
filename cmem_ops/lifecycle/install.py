"""`cmem-ops install`: claude-mem's decision tree for getting a queue store, as a service.

    --queue sqlite                    keep the SQLite queue; nothing else happens
    --redis-url URL                   probe it with the doctor's store checks (url_check.py), then save it
    --provider NAME                   install with that provider (explicitly asked)
    a configured URL that answers     use it
    a local Valkey/Redis >= 6.2       manage it (settings + start)
    nothing found, interactive        menu: manage local Valkey [recommended] / existing URL / SQLite
    nothing found, non-interactive    install only with --install-redis, else fail with the exact command

`dry_run` changes nothing (no settings, no installs, no prompts) and reports the plan it would run.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..containers.engine import Engine
from ..containers.engine_status import engine_answers
from ..context import Context
from ..errors import ConfigError, MissingError, OpsError
from ..host.detect import Host, detect_host
from ..installers.apply import apply_commands, manual_commands
from ..installers.base import InstallPlan, InstallRequest, ProviderName, Which
from ..installers.container import CONTAINER_NAME, ContainerSpec, config_dir, read_state, run_container
from ..installers.docker_provider import image_for
from ..installers.manifest import load_manifest
from ..installers.select import PROVIDERS, Selection, select_provider
from ..installers.tarball import install_tarball, resolve
from ..redaction import redact_url
from ..redis_url import parse_redis_url
from ..settings import KEY_ENGINE, KEY_MODE, KEY_PORT, KEY_URL, QueueEngine, RedisMode, write_settings_keys
from ..store.binaries import ServerBinary, discover, rank
from ..store.ports import choose_port, ipv6_loopback_available, port_is_free
from ..store.state import managed_target, new_password
from . import store as store_service
from .install_options import InstallAction, InstallOptions, InstallResult, InstallUI
from .url_check import check_redis_url

KEY_BASE_URL = "CMEM_OPS_VALKEY_BASE_URL"
KEY_MANIFEST = "CMEM_OPS_VALKEY_MANIFEST"
KEY_IMAGE = "CMEM_OPS_DOCKER_IMAGE"
_OWN_MODES = (None, RedisMode.MANAGED.value, RedisMode.DOCKER.value)  # modes whose URL holds our password
MENU = ("Manage local Valkey for me [recommended]", "Use existing Redis URL", "Keep SQLite queue for now")


def build_request(ctx: Context, opts: InstallOptions, port: int | None = None) -> InstallRequest:
    """Resolve the install request: flags, then settings/env, then the shipped defaults."""
    manifest_path = opts.manifest or (Path(m) if (m := ctx.settings.get(KEY_MANIFEST)) else None)
    return InstallRequest(
        manifest=load_manifest(manifest_path), bin_root=ctx.paths.valkey_bin_root, version=opts.version,
        redis_compat=opts.redis_compat, base_url=opts.base_url or ctx.settings.get(KEY_BASE_URL),
        image=opts.image or ctx.settings.get(KEY_IMAGE), port=port, python=sys.executable,
        store_config_dir=config_dir(ctx.paths),
    )


def install(ctx: Context, opts: InstallOptions, ui: InstallUI | None = None, *, host: Host | None = None,
            which: Which = shutil.which) -> InstallResult:
    """Run the decision tree; raise OpsError (with the exact next command) when nothing fits."""
    ui = ui or InstallUI()
    host = host or detect_host(which=which, docker_engine=engine_answers)
    interactive = host.stdin_tty and not opts.non_interactive and ui.prompter is not None
    request = build_request(ctx, opts, ctx.settings.persisted_port)
    selection = select_provider(host, which, request, opts.provider)
    tree = _Tree(ctx, opts, ui, host, which, interactive, request, selection)
    return tree.run()


@dataclass
class _Tree:
    ctx: Context
    opts: InstallOptions
    ui: InstallUI
    host: Host
    which: Which
    interactive: bool
    request: InstallRequest
    selection: Selection
    messages: list[str] = field(default_factory=list)

    def run(self) -> InstallResult:
        opts, settings = self.opts, self.ctx.settings
        if opts.queue is QueueEngine.SQLITE:
            return self.use_sqlite()
        if opts.redis_url:
            ok, why = self.check_url(opts.redis_url)
            if not ok:
                raise ConfigError(f"--redis-url {redact_url(opts.redis_url)}: {why}",
                                  hint="fix the server or the URL and rerun; or keep SQLite: "
                                       "cmem-ops install --queue sqlite")
            return self.use_url(opts.redis_url, why, from_env=False)
        if opts.provider is not None:
            return self.install_with_selection()
        if settings.redis_mode is RedisMode.DOCKER and settings.redis_url:
            return self.resume_docker(settings.redis_url)
        if settings.redis_mode is RedisMode.EXTERNAL and settings.redis_url:
            result = self.try_configured_url(settings.redis_url)
            if result is not None:
                return result
        if not opts.ignore_local:
            best = rank(discover(self.ctx.paths, self.ctx.runner))
            if best:
                return self.use_local(best[0])
        if self.interactive and not opts.dry_run:
            return self.menu()
        if opts.install_redis or opts.dry_run:
            return self.install_with_selection()
        raise self.nothing_found()

    def check_url(self, url: str) -> tuple[bool, str]:
        """The doctor's store checks on `url` (Lua and the BullMQ smoke included)."""
        return check_redis_url(self.ctx, url, timeout=self.opts.timeout)

    # --- branches -------------------------------------------------------------------------------

    def try_configured_url(self, url: str) -> InstallResult | None:
        ok, why = self.check_url(url)
        source = self.ctx.settings.source(KEY_URL)
        if ok:
            return self.use_url(url, why, from_env=source.startswith("env"))
        if source.startswith("env"):
            raise ConfigError(f"{source} = {redact_url(url)}: {why}",
                              hint="fix that server or the variable; or unset it and rerun: cmem-ops install")
        self.messages.append(f"the configured URL {redact_url(url)} ({source}) is not usable: {why}")
        return None

    def resume_docker(self, url: str) -> InstallResult:
        """A docker-mode store was installed before: keep it, restarting its container when it is down."""
        ok, why = self.check_url(url)
        if ok:
            updates: dict[str, str | None] = {KEY_ENGINE: QueueEngine.BULLMQ.value}
            self.write(updates)
            self.messages.append(f"the docker-mode store answers: {why}")
            return self.result(InstallAction.ALREADY_PRESENT, updates, mode=RedisMode.DOCKER.value, url=url)
        provider = PROVIDERS[ProviderName.DOCKER]
        availability = provider.check(self.host, self.which, self.request)
        if not availability.available:
            raise ConfigError(f"the docker-mode store does not answer ({why}) and cannot be restarted: "
                              f"{availability.reason}",
                              hint="start Docker, then rerun: cmem-ops install   (or switch: cmem-ops uninstall, "
                                   "then cmem-ops install)")
        self.messages.append(f"the docker-mode store does not answer ({why}): restarting its container")
        image = self.request.image
        if image is None:  # keep the image the container was made from (it may be a local or mirrored one)
            state = read_state(Engine.connect(), CONTAINER_NAME)
            image = state.image if state.exists and state.ours else None
        request = dataclasses.replace(self.request, image=image)
        docker_plan = provider.plan(self.host, self.which, request)
        if self.opts.dry_run:
            return self.result(InstallAction.ALREADY_PRESENT, {}, mode=RedisMode.DOCKER.value, plan=docker_plan)
        return self.install_docker(docker_plan, image_for(request))

    def use_sqlite(self) -> InstallResult:
        updates: dict[str, str | None] = {KEY_ENGINE: QueueEngine.SQLITE.value}
        self.write(updates)
        self.messages.append("claude-mem keeps its SQLite queue; run `cmem-ops install` again to switch to BullMQ")
        return self.result(InstallAction.SQLITE, updates, mode=None, queue=QueueEngine.SQLITE)

    def use_url(self, url: str, why: str, *, from_env: bool) -> InstallResult:
        updates: dict[str, str | None] = {KEY_ENGINE: QueueEngine.BULLMQ.value}
        if not from_env:
            updates.update({KEY_MODE: RedisMode.EXTERNAL.value, KEY_URL: url, KEY_PORT: None})
        self.write(updates)
        self.messages.append(f"using {why}")
        return self.result(InstallAction.USE_URL, updates, mode=RedisMode.EXTERNAL.value, url=url)

    def use_local(self, binary: ServerBinary, action: InstallAction = InstallAction.USE_LOCAL,
                  plan: InstallPlan | None = None) -> InstallResult:
        self.messages.append(f"managing {binary.label} at {binary.path} ({binary.source})")
        return self.manage(str(binary.path), action, plan)

    def manage(self, binary: str | None, action: InstallAction, plan: InstallPlan | None) -> InstallResult:
        updates: dict[str, str | None] = {KEY_ENGINE: QueueEngine.BULLMQ.value, KEY_MODE: RedisMode.MANAGED.value}
        if self.opts.dry_run:
            updates.update({KEY_PORT: "<chosen on first start>", KEY_URL: "redis://default:<password>@127.0.0.1:<port>/0"})
            return self.result(action, updates, mode=RedisMode.MANAGED.value, binary=binary, plan=plan)
        if self.ctx.settings.file_values.get(KEY_MODE) not in (None, RedisMode.MANAGED.value):
            write_settings_keys(self.ctx.paths, {KEY_URL: None, KEY_PORT: None})  # never reuse an external URL
        write_settings_keys(self.ctx.paths, {KEY_ENGINE: QueueEngine.BULLMQ.value, KEY_MODE: RedisMode.MANAGED.value})
        ctx = self.ctx.reload()
        identity = store_service.managed_identity(ctx)
        updates.update({KEY_PORT: str(identity.port), KEY_URL: identity.target.url()})
        pid = None
        if self.opts.start:
            started = store_service.start(ctx.reload(), binary=binary, timeout=self.opts.timeout)
            pid = started.pid
            self.messages.append(f"the managed store answers on 127.0.0.1:{started.port} (pid {started.pid})")
        return self.result(action, updates, mode=RedisMode.MANAGED.value, binary=binary, plan=plan,
                           url=identity.target.url(), started=self.opts.start, pid=pid, port=identity.port)

    def menu(self) -> InstallResult:
        assert self.ui.prompter is not None
        choice = self.ui.prompter.choose("No Valkey or Redis server was found. How should claude-mem queue work?",
                                         MENU, 0)
        if choice == 1:
            url = self.ui.prompter.ask("Redis URL (redis://[:password@]host:port[/db])").strip()
            ok, why = self.check_url(url)
            if not ok:
                raise ConfigError(f"{redact_url(url)}: {why}",
                                  hint="fix the server or the URL, then: cmem-ops install --redis-url URL")
            return self.use_url(url, why, from_env=False)
        if choice == 2:
            return self.use_sqlite()
        return self.install_with_selection(confirm=True)

    def install_with_selection(self, confirm: bool = False) -> InstallResult:
        sel = self.selection
        if sel.plan is None or sel.chosen is None:
            wanted = f"--provider {self.opts.provider.value}" if self.opts.provider else "any provider"
            raise MissingError(f"nothing can install a queue store here with {wanted}: {sel.why_none}",
                               hint="use an existing server: cmem-ops install --redis-url redis://HOST:PORT   "
                                    "(or keep SQLite: cmem-ops install --queue sqlite)")
        plan = sel.plan
        if self.opts.dry_run:
            if plan.mode == RedisMode.DOCKER:
                updates: dict[str, str | None] = {
                    KEY_ENGINE: QueueEngine.BULLMQ.value, KEY_MODE: RedisMode.DOCKER.value,
                    KEY_URL: "redis://default:<password>@127.0.0.1:<port>/0"}
                return self.result(InstallAction.INSTALLED, updates, mode=RedisMode.DOCKER.value, plan=plan)
            return self.manage(plan.binary, InstallAction.INSTALLED, plan)
        if confirm and self.ui.prompter is not None and not self.ui.prompter.confirm_plan(plan):
            raise OpsError("install cancelled at the prompt; nothing was changed",
                           hint="see the plan again: cmem-ops install --dry-run --explain")
        if plan.mode == RedisMode.DOCKER:
            return self.install_docker(plan)
        action = self.apply(plan)
        binary = plan.binary if plan.binary and Path(plan.binary).is_file() else None
        if binary is None:
            found = rank(discover(self.ctx.paths, self.ctx.runner))
            if not found:
                raise MissingError(f"{plan.provider.value} finished, but no usable server binary was found",
                                   hint="cmem-ops store binaries   (lists what was found and why it was refused)")
            binary = str(found[0].path)
        self.messages.append(f"{plan.product}: {action.value} via {plan.provider.value}")
        return self.manage(binary, action, plan)

    def apply(self, plan: InstallPlan) -> InstallAction:
        if plan.provider is ProviderName.TARBALL:
            target, why = resolve(self.host, self.request)
            if target is None:
                raise MissingError(f"no tarball for this host: {why}", hint="cmem-ops install --dry-run --explain")
            result = install_tarball(target, self.ctx.runner, on_progress=self.ui.on_progress)
            if result.digest_source:
                self.messages.append(f"verified {target.artifact.filename}: sha256 {result.sha256} "
                                     f"({result.digest_source})")
            return InstallAction.INSTALLED if result.outcome.value == "installed" else InstallAction.ALREADY_PRESENT
        present = bool(plan.binary and Path(plan.binary).is_file())
        apply_commands(plan, self.host, self.ctx.runner, interactive=self.interactive, on_step=self.ui.on_step)
        return InstallAction.ALREADY_PRESENT if present else InstallAction.INSTALLED

    def install_docker(self, plan: InstallPlan, image: str | None = None) -> InstallResult:
        port, password = self.docker_identity()
        spec = ContainerSpec(image=image or image_for(self.request), port=port, password=password,
                             config_dir=config_dir(self.ctx.paths))
        state = run_container(spec, start=self.opts.start, timeout=max(self.opts.timeout, 30.0))
        url = managed_target(port, password).url()
        updates: dict[str, str | None] = {KEY_ENGINE: QueueEngine.BULLMQ.value, KEY_MODE: RedisMode.DOCKER.value,
                                          KEY_URL: url, KEY_PORT: str(port)}
        self.write(updates)
        self.messages.append(f"container {state.name} ({spec.image}) {state.status} on 127.0.0.1:{port}")
        return self.result(InstallAction.INSTALLED, updates, mode=RedisMode.DOCKER.value, plan=plan, url=url,
                           started=state.running, port=port)

    def docker_identity(self) -> tuple[int, str]:
        settings = self.ctx.settings
        url = settings.file_values.get(KEY_URL)
        port, password = settings.persisted_port, None
        if isinstance(url, str) and url and settings.file_values.get(KEY_MODE) in _OWN_MODES:
            try:
                password = parse_redis_url(url).password
            except ConfigError:
                password = None
        if port is None:
            ipv6 = ipv6_loopback_available()
            port = choose_port(lambda p: port_is_free(p, ipv6=ipv6))
        return port, password or new_password()

    # --- helpers --------------------------------------------------------------------------------

    def nothing_found(self) -> OpsError:
        sel = self.selection
        lines = "CLAUDE_MEM_REDIS_URL is not set or does not answer, " + (
            "local binaries were ignored (--ignore-local)" if self.opts.ignore_local
            else "no Valkey or Redis >= 6.2 server binary is on this machine")
        if sel.chosen is not None and sel.plan is not None:
            command = f"cmem-ops install --non-interactive --install-redis --provider {sel.chosen.value}"
            manual = manual_commands(sel.plan, self.host)
            extra = f"   (installs {sel.plan.product}" + (f": {'; '.join(manual)}" if manual else "") + ")"
            hint = command + extra
        else:
            hint = ("cmem-ops install --non-interactive --redis-url redis://HOST:PORT   "
                    f"(nothing can install a server here: {sel.why_none})")
        return MissingError(f"no queue store: {lines}, and installing one was not asked for "
                            "(non-interactive runs never install unasked)", hint=hint)

    def write(self, updates: dict[str, str | None]) -> None:
        if not self.opts.dry_run:
            write_settings_keys(self.ctx.paths, updates)

    def result(self, action: InstallAction, updates: dict[str, str | None], *, mode: str | None,
               queue: QueueEngine = QueueEngine.BULLMQ, url: str | None = None, binary: str | None = None,
               plan: InstallPlan | None = None, started: bool = False, pid: int | None = None,
               port: int | None = None) -> InstallResult:
        shown = {k: (redact_url(v) if v and k == KEY_URL else v) for k, v in updates.items()}
        return InstallResult(
            action=action, dry_run=self.opts.dry_run, interactive=self.interactive, queue_engine=queue.value,
            mode=mode, url=redact_url(url) if url else None, binary=binary,
            provider=plan.provider.value if plan else None, plan=plan,
            would_install=None if plan else self.selection.plan, choices=self.selection.choices,
            settings=shown, host=self.host, started=started, pid=pid, port=port, messages=tuple(self.messages),
        )
