"""`cmem-ops images build`: build every image the docker stack needs, with no registry.

For each recipe: if the engine already has the tag with the same `io.cmem-ops.inputs` label, it is
`present` and nothing is done; else the root filesystem is staged in a temp dir, packed and
`docker import`ed through containers/engine.py (`built`). The claude-mem image needs the runtime
installed under the data dir (`cmem-ops server install`, run here when it is missing).
Progress goes to `on_event(name, message)`; the CLI draws it with rich.
"""

from __future__ import annotations

import platform
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..containers.engine import Engine
from ..context import Context
from ..errors import MissingError, OpsError, UsageError
from ..host.detect import normalize_arch
from .recipes import (
    CLAUDE_MEM_TAG,
    INPUTS_LABEL,
    RECIPE_LABEL,
    Recipe,
    claude_mem_recipe,
    postgres_recipe,
    recipe_mark,
    valkey_recipe,
)
from .rootfs import Rootfs, write_tar

NAMES = ("valkey", "postgres", "claude-mem")
Event = Callable[[str, str], None]


@dataclass(frozen=True)
class ImageResult:
    """One image: its tag, whether it was built, already present or failed, and how long it took."""

    name: str
    tag: str
    status: str  # "built" | "present" | "failed"
    seconds: float
    detail: str = ""


def recipe_for(ctx: Context, name: str, on_event: Event) -> Recipe:
    """The recipe of image `name` on this machine (installs the claude-mem runtime when it is missing)."""
    if name == "valkey":
        return valkey_recipe(normalize_arch(platform.machine()))
    if name == "postgres":
        return postgres_recipe()
    if name == "claude-mem":
        from ..runtime.install import DEFAULT_VERSION, run_install
        from ..runtime.locate import find_runtime

        runtime = find_runtime(ctx.paths, DEFAULT_VERSION)
        if runtime is None:
            on_event(name, f"installing claude-mem {DEFAULT_VERSION} under {ctx.paths.data_dir} first")
            runtime = run_install(ctx, DEFAULT_VERSION, say=lambda line: on_event(name, line)).runtime
        if runtime.bun is None:
            raise MissingError("the claude-mem runtime has no bun (it is pinned for linux x86_64 glibc only)",
                               hint="build the image on linux x86_64, or use a claude-mem image built elsewhere")
        return claude_mem_recipe(runtime.root, runtime.bun, runtime.version)
    raise UsageError(f"unknown image {name!r}; known: {', '.join(NAMES)}", hint="cmem-ops images build")


def build_images(ctx: Context, names: Sequence[str] = NAMES, *, force: bool = False,
                 on_event: Event = lambda name, message: None) -> list[ImageResult]:
    """Build (or find present) each image in `names`; a failure is a result, the others still run."""
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        raise UsageError(f"unknown image {unknown[0]!r}; known: {', '.join(NAMES)}", hint="cmem-ops images build")
    engine = Engine.connect()
    results: list[ImageResult] = []
    try:
        for name in names:
            started = time.monotonic()
            try:
                if name == "claude-mem" and not force and _unverifiable(ctx, engine):
                    on_event(name, f"{CLAUDE_MEM_TAG} is present (no runtime in this data dir to compare inputs)")
                    results.append(ImageResult(name, CLAUDE_MEM_TAG, "present", 0.0, "inputs not compared"))
                    continue
                recipe = recipe_for(ctx, name, on_event)
                results.append(build_one(engine, ctx, recipe, force=force, on_event=on_event, started=started))
            except OpsError as exc:
                on_event(name, f"failed: {exc.message}")
                results.append(ImageResult(name, "", "failed", round(time.monotonic() - started, 1),
                                           f"{exc.message}" + (f" (hint: {exc.hint})" if exc.hint else "")))
    finally:
        engine.close()
    return results


def _unverifiable(ctx: Context, engine: Engine) -> bool:
    """The claude-mem image exists but no runtime here could say whether it is current."""
    from ..runtime.install import DEFAULT_VERSION
    from ..runtime.locate import find_runtime

    labels = engine.image_labels(CLAUDE_MEM_TAG)
    return (labels is not None and INPUTS_LABEL in labels and labels.get(RECIPE_LABEL) == recipe_mark()
            and find_runtime(ctx.paths, DEFAULT_VERSION) is None)


def build_one(engine: Engine, ctx: Context, recipe: Recipe, *, force: bool, on_event: Event,
              started: float) -> ImageResult:
    """Build one recipe unless its tag already carries the same inputs digest."""
    labels = engine.image_labels(recipe.tag)
    if not force and labels is not None and labels.get(INPUTS_LABEL) == recipe.digest:
        on_event(recipe.name, f"{recipe.tag} is present (same inputs)")
        return ImageResult(recipe.name, recipe.tag, "present", round(time.monotonic() - started, 1))
    with tempfile.TemporaryDirectory(prefix=f"cmem-image-{recipe.name}-") as tmp:
        fs = Rootfs(Path(tmp) / "root")
        fs.root.mkdir()
        on_event(recipe.name, f"staging the root filesystem of {recipe.tag}")
        recipe.stage(fs, ctx.runner)
        archive = Path(tmp) / "rootfs.tar"
        on_event(recipe.name, "packing it")
        write_tar(fs, archive)
        size_mb = archive.stat().st_size / 1e6
        on_event(recipe.name, f"importing {size_mb:.0f} MB into the engine")
        changes = [*recipe.changes, f"LABEL {INPUTS_LABEL}={recipe.digest}", f"LABEL {RECIPE_LABEL}={recipe_mark()}"]
        old_id = engine.image_id(recipe.tag)
        with archive.open("rb") as fh:
            engine.import_rootfs(fh, recipe.tag, changes)
    detail = ""
    if old_id is not None and old_id != engine.image_id(recipe.tag):
        try:
            engine.remove_image(old_id)  # the replaced build, unless a container still uses it
            detail = "replaced the previous build"
        except OpsError:
            detail = "the previous build is kept while a container uses it"
    on_event(recipe.name, f"built {recipe.tag}")
    return ImageResult(recipe.name, recipe.tag, "built", round(time.monotonic() - started, 1), detail)
