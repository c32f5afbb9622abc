"""What ``migrate`` and ``cp`` print: a progress bar on a terminal (nothing when stderr is not one), the plan and
the summary."""

from __future__ import annotations

from types import TracebackType

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from ..migrate import MigrationReport, Plan

__all__ = ["TransferProgress", "print_plan", "print_summary", "size"]


def size(nbytes: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if nbytes < 1000 or unit == "TB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1000
    raise AssertionError("unreachable")


class TransferProgress:
    """Objects, bytes, rate and ETA on stderr while a terminal shows it; silent otherwise (logs, CI, pipes)."""

    def __init__(self) -> None:
        console = Console(stderr=True)
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[objects]}"),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not console.is_terminal,
            transient=False,
        )
        self._task: TaskID | None = None
        self._objects = 0
        self._total_objects = 0

    def __enter__(self) -> TransferProgress:
        self._bar.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._bar.stop()

    def start(self, objects: int, nbytes: int) -> None:
        self._total_objects = objects
        self._task = self._bar.add_task("copying", total=nbytes, objects=f"0/{objects} objects")

    def advance(self, objects: int, nbytes: int) -> None:
        assert self._task is not None
        self._objects += objects
        self._bar.update(self._task, advance=nbytes, objects=f"{self._objects}/{self._total_objects} objects")


def print_plan(plan: Plan, *, listing: bool) -> None:
    """Counts and bytes per action; with ``listing``, one line per path (the dry run)."""
    if listing:
        for entry in plan.copy:
            click.echo(f"copy      {entry.size:>12}  {entry.path}")
        for entry in plan.identical:
            click.echo(f"identical {entry.size:>12}  {entry.path}")
        for conflict in plan.conflicts:
            click.echo(f"conflict  {conflict.source.size:>12}  {conflict.source.path}")
        for folder in plan.folders:
            click.echo(f"folder    {'-':>12}  {folder}/")
    click.echo(
        f"plan: copy {len(plan.copy)} objects ({size(plan.copy_bytes)}), "
        f"identical {len(plan.identical)} ({size(plan.identical_bytes)}, skipped), "
        f"conflicts {len(plan.conflicts)} ({size(plan.conflict_bytes)}), empty folders {len(plan.folders)}"
    )


def print_summary(report: MigrationReport) -> None:
    copied = sum(c.size for c in report.copied)
    rate = copied / report.seconds if report.seconds else 0.0
    click.echo(
        f"copied {len(report.copied)} objects ({size(copied)}) in {report.seconds:.1f} s ({size(rate)}/s), "
        f"each verified; {len(report.plan.identical)} identical skipped; {len(report.folders_made)} empty folders"
        + (f"; {len(report.deleted)} deleted from the source" if report.deleted else "")
    )
    for conflict in report.plan.conflicts:
        click.echo(f"conflict: {conflict.source.path} differs at the destination; left untouched", err=True)
    if report.plan.conflicts:
        click.echo(
            f"{len(report.plan.conflicts)} conflicts left untouched: rerun with --overwrite to replace them", err=True
        )
    for path, error in sorted(report.failed.items()):
        click.echo(f"failed: {path}: {error}", err=True)
    if report.abandoned:
        click.echo(f"not tried: {len(report.abandoned)} files, as the server stayed unreachable", err=True)
    if not report.ok:
        click.echo(
            f"{len(report.failed)} failed, {len(report.abandoned)} not tried: rerun the same command to finish "
            "(what is verified at the destination is skipped)",
            err=True,
        )
