"""Run a migration: plan, copy with bounded concurrency, verify, make empty folders, optionally delete the source.

Resumable by construction: the plan skips what is already at the destination with the same content, and every
write is atomic, so running the same migration again after an interruption finishes the job.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from fsspec.asyn import get_loop

from ..backend import Entry, run_bounded
from ..errors import BackendUnavailable, ChecksumMismatch, FolderNotEmpty, NotFound, StorageError
from ..store import AsyncStore
from .plan import Plan, make_plan
from .transfer import Copied, MemoryBudget, copy_verified

__all__ = ["DEFAULT_JOBS", "DEFAULT_MEMORY", "MigrationReport", "Progress", "migrate", "run_cancellable"]

#: Files in flight.
DEFAULT_JOBS = 16
#: Bytes the copies in flight hold together at most (see :class:`~.transfer.MemoryBudget`).
DEFAULT_MEMORY = 256 * 2**20

R = TypeVar("R")
#: Errors worth another try: the bytes did not arrive whole, or the server was away for longer than the retries
#: of the SDK.
RETRIED = (ChecksumMismatch, BackendUnavailable)


class Progress(Protocol):
    def start(self, objects: int, nbytes: int) -> None: ...

    def advance(self, objects: int, nbytes: int) -> None: ...


@dataclass
class MigrationReport:
    """What a migration did (or, for a dry run, would do). ``to_json()`` is what ``--report`` writes."""

    source: str
    destination: str
    dry_run: bool
    plan: Plan
    copied: list[Copied] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    #: Files not tried because a server stayed unreachable: rerunning copies them.
    abandoned: list[str] = field(default_factory=list)
    folders_made: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: The requests sent to each server, by operation (``{"source": {"GetObject": 10, ...}, "destination":
    #: {...}}``), for the stores whose backend counts them (S3 and CORTX).
    requests: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Everything planned was copied and verified (conflicts are reported apart)."""
        return not self.failed and not self.abandoned

    def to_json(self) -> dict[str, Any]:
        def files(entries: list[Entry]) -> list[dict[str, Any]]:
            return [{"path": e.path, "size": e.size} for e in entries]

        plan = self.plan
        return {
            "source": self.source,
            "destination": self.destination,
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "summary": {
                "to_copy": {"objects": len(plan.copy), "bytes": plan.copy_bytes},
                "identical": {"objects": len(plan.identical), "bytes": plan.identical_bytes},
                "conflicts": {"objects": len(plan.conflicts), "bytes": plan.conflict_bytes},
                "copied": {"objects": len(self.copied), "bytes": sum(c.size for c in self.copied)},
                "failed": len(self.failed),
                "not_tried": len(self.abandoned),
                "empty_folders": len(plan.folders),
                "deleted_from_source": len(self.deleted),
            },
            "planned": files(plan.copy),
            "copied": [vars(c) for c in self.copied],
            "identical": files(plan.identical),
            "conflicts": [
                {"path": c.source.path, "source_size": c.source.size, "destination_size": c.target.size}
                for c in plan.conflicts
            ],
            "failed": [{"path": path, "error": error} for path, error in sorted(self.failed.items())],
            "not_tried": self.abandoned,
            "folders": plan.folders,
            "deleted_from_source": self.deleted,
        }


async def migrate(
    src: AsyncStore,
    dst: AsyncStore,
    *,
    dry_run: bool = False,
    overwrite: bool = False,
    delete_source: bool = False,
    jobs: int = DEFAULT_JOBS,
    memory: int = DEFAULT_MEMORY,
    retries: int = 2,
    progress: Progress | None = None,
    on_plan: Callable[[Plan], None] | None = None,
) -> MigrationReport:
    """Copy everything of ``src`` into ``dst`` (same relative paths), verified. See the module's documentation.

    ``jobs`` files are copied at a time, holding at most ``memory`` bytes together (a file larger than
    :data:`~.transfer.WHOLE_LIMIT` is streamed and counts as :data:`~.transfer.STREAM_MEMORY`). A failed copy is
    tried ``retries`` more times when the bytes did not arrive whole or a server was away. ``progress`` hears of
    every file copied, ``on_plan`` gets the plan before anything is copied.
    """
    started = time.monotonic()
    counted = _RequestCounts({"source": src, "destination": dst})
    plan = await make_plan(src, dst, jobs=jobs, overwrite=overwrite)
    if on_plan is not None:
        on_plan(plan)
    report = MigrationReport(src.config.url, dst.config.url, dry_run, plan)
    if dry_run:
        report.seconds, report.requests = time.monotonic() - started, counted.since()
        return report
    if progress is not None:
        progress.start(len(plan.copy), plan.copy_bytes)

    unreachable: list[BackendUnavailable] = []
    budget = MemoryBudget(memory)

    async def copy_one(entry: Entry) -> None:
        for attempt in range(retries + 1):
            if unreachable:  # a server is gone: stop here rather than fail every file in turn
                report.abandoned.append(entry.path)
                return
            try:
                copied = await copy_verified(src, dst, entry, memory=budget)
            except RETRIED as e:
                if attempt == retries:
                    if isinstance(e, BackendUnavailable):
                        unreachable.append(e)
                    raise
                await asyncio.sleep(0.5 * 2**attempt)
            else:
                report.copied.append(copied)
                if progress is not None:
                    progress.advance(1, entry.size)
                return

    failed = await run_bounded(plan.copy, copy_one, jobs)
    report.failed = {entry.path: _describe(error) for entry, error in failed.items()}

    async def make_folder(folder: str) -> None:
        await dst.mkdir(folder, exist_ok=True)
        report.folders_made.append(folder)

    if unreachable:
        report.abandoned.extend(folder + "/" for folder in plan.folders)
    else:
        for folder, error in (await run_bounded(plan.folders, make_folder, jobs)).items():
            report.failed[folder + "/"] = _describe(error)
    if delete_source:
        await _delete_verified(src, report, jobs)
    report.seconds, report.requests = time.monotonic() - started, counted.since()
    return report


class _RequestCounts:
    """The requests counted by the stores' backends (``backend.requests``, a ``Counter``) since this was made."""

    def __init__(self, stores: dict[str, AsyncStore]) -> None:
        self._counters: dict[str, Counter[str]] = {}
        for name, store in stores.items():
            counter = getattr(store.backend, "requests", None)
            if isinstance(counter, Counter) and all(counter is not c for c in self._counters.values()):
                self._counters[name] = counter
        self._start = {name: Counter(counter) for name, counter in self._counters.items()}

    def since(self) -> dict[str, dict[str, int]]:
        return {
            name: dict(sorted((Counter(counter) - self._start[name]).items()))
            for name, counter in self._counters.items()
        }


async def _delete_verified(src: AsyncStore, report: MigrationReport, jobs: int) -> None:
    """Delete from the source what is verified at the destination, then the source folders left empty."""
    verified = [c.path for c in report.copied] + [e.path for e in report.plan.identical]

    async def delete(path: str) -> None:
        await src.delete(path, missing_ok=True)
        report.deleted.append(path)

    for path, error in (await run_bounded(verified, delete, jobs)).items():
        report.failed[path] = f"copied and verified, but not deleted from the source: {_describe(error)}"
    folders = set(report.folders_made) | set(report.plan.source_folders)
    for folder in sorted(folders, key=lambda f: (-f.count("/"), f)):  # deepest first
        try:
            await src.delete(folder)
            report.deleted.append(folder + "/")
        except (FolderNotEmpty, NotFound):
            pass  # something stays in it (a conflict, a failure), or it was a prefix only


def _describe(error: BaseException) -> str:
    return str(error) if isinstance(error, StorageError) else f"{type(error).__name__}: {error}"


def run_cancellable(coro: Coroutine[Any, Any, R], grace: float = 30.0) -> R:
    """Run ``coro`` on fsspec's I/O loop and wait for it; on Ctrl-C (or any exception while waiting) cancel it and
    wait up to ``grace`` seconds for its writes to abort, so nothing partial is left at a destination path."""
    loop = get_loop()
    tasks: list[asyncio.Task[Any]] = []

    async def run() -> R:
        task = asyncio.current_task()
        assert task is not None
        tasks.append(task)
        return await coro

    future = asyncio.run_coroutine_threadsafe(run(), loop)
    try:
        return future.result()
    except BaseException:
        finished = threading.Event()

        def cancel() -> None:
            if not tasks or tasks[0].done():
                finished.set()
                return
            tasks[0].add_done_callback(lambda _: finished.set())
            tasks[0].cancel()

        loop.call_soon_threadsafe(cancel)
        finished.wait(grace)
        raise
