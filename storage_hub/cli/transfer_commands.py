"""``migrate`` and ``cp``: copy between any two stores, verified, resumable, with progress and a report."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import NotFound, StorageError
from ..migrate import DEFAULT_JOBS, MigrationReport, copy_verified, migrate, run_cancellable
from ..migrate.plan import same_content
from ..registry import open_store
from ..store import Store
from .app import EXIT_CONFLICTS, EXIT_FAILED, fail, main
from .options import store_arguments
from .progress import TransferProgress, print_plan, print_summary


class _BrokenConnectionEchoes(logging.Filter):
    """Drops asyncio's "Task exception was never retrieved" about a broken connection.

    When a server goes away mid-request, aiohttp's background task that sends the request body fails as well; its
    error is never awaited, so asyncio would print its traceback. The request's own error is what the summary
    reports (and the rerun hint): this echo of it is noise.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (isinstance(error, OSError) and str(record.msg).startswith("Task exception was never retrieved"))


def _quiet_broken_connections() -> None:
    logger = logging.getLogger("asyncio")
    if not any(isinstance(f, _BrokenConnectionEchoes) for f in logger.filters):
        logger.addFilter(_BrokenConnectionEchoes())


def _open(url: str, options: dict[str, Any]) -> Store:
    try:
        return open_store(url, **options)
    except StorageError as e:
        fail(e)


def _write_report(report: MigrationReport, path: Path | None) -> None:
    if path is not None:
        path.write_text(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _finish(report: MigrationReport) -> None:
    if not report.ok:
        sys.exit(EXIT_FAILED)
    if report.plan.conflicts:
        sys.exit(EXIT_CONFLICTS)


def _run_migration(
    src: Store, dst: Store, *, dry_run: bool, overwrite: bool, delete_source: bool, jobs: int, report_path: Path | None
) -> None:
    _quiet_broken_connections()
    with TransferProgress() as progress:
        try:
            report = run_cancellable(
                migrate(
                    src.aio,
                    dst.aio,
                    dry_run=dry_run,
                    overwrite=overwrite,
                    delete_source=delete_source,
                    jobs=jobs,
                    progress=progress,
                )
            )
        except KeyboardInterrupt:
            click.echo("interrupted: nothing partial was left; rerun the same command to finish", err=True)
            sys.exit(130)
        except StorageError as e:
            fail(e)
    print_plan(report.plan, listing=dry_run)
    if not dry_run:
        print_summary(report)
    _write_report(report, report_path)
    _finish(report)


JOBS = click.option(
    "-j", "--jobs", type=click.IntRange(1, 256), default=DEFAULT_JOBS, show_default=True, help="Files in flight."
)
OVERWRITE = click.option("--overwrite", is_flag=True, help="Replace files that differ at the destination.")
REPORT = click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write a JSON report of everything planned and done to this file.",
)


@main.command(name="migrate")
@store_arguments("src")
@store_arguments("dest")
@click.option("--dry-run", is_flag=True, help="Only plan: list what would be copied, skipped and what conflicts.")
@OVERWRITE
@click.option("--delete-source", is_flag=True, help="Delete from the source what is verified at the destination.")
@JOBS
@REPORT
def migrate_command(
    *,
    src: str,
    src_options: dict[str, Any],
    dest: str,
    dest_options: dict[str, Any],
    dry_run: bool,
    overwrite: bool,
    delete_source: bool,
    jobs: int,
    report_path: Path | None,
) -> None:
    """Copy everything in SRC to DEST: files, notebooks, checkpoints, empty folders, names exactly kept.

    SRC and DEST are store URLs (s3://bucket/prefix/, cortx://..., a local path) or store names from the stores
    file. Files already at DEST with the same content are skipped, so after an interruption the same command
    finishes the job; files that differ at DEST are conflicts, left untouched unless --overwrite. Every copied
    file is verified (size and MD5 or sha256); server-side copy when both stores are on the same server.
    """
    with _open(src, src_options) as source, _open(dest, dest_options) as target:
        _run_migration(
            source,
            target,
            dry_run=dry_run,
            overwrite=overwrite,
            delete_source=delete_source,
            jobs=jobs,
            report_path=report_path,
        )


def _split(url: str) -> tuple[str, str]:
    """``(parent, name)`` of a URL or path; ``name`` is empty where the URL is a bucket or a root."""
    scheme, sep, rest = url.rpartition("://")
    rest = rest.rstrip("/")
    if "/" not in rest:
        return (url, "") if sep else (os.path.dirname(os.path.abspath(rest)), os.path.basename(rest))
    parent, name = rest.rsplit("/", 1)
    return f"{scheme}{sep}{parent or '/'}" + ("/" if sep else ""), name


def _copy_file(source: Store, name: str, dest: str, dest_options: dict[str, Any], overwrite: bool) -> None:
    _quiet_broken_connections()
    entry = source.info(name)
    folder, target = (dest, name) if dest.endswith("/") else _split(dest)
    with _open(folder, dest_options) as destination:
        try:
            existing = destination.info(target)
        except NotFound:
            existing = None
        if existing is not None:
            if existing.is_dir:
                fail(StorageError(f"{target!r} is a folder at the destination; end DEST with / to copy into it"))
            if run_cancellable(same_content(source.aio, entry, destination.aio, existing)):
                click.echo(f"{target}: already at the destination with the same content")
                return
            if not overwrite:
                click.echo(f"conflict: {target} differs at the destination; left untouched (--overwrite)", err=True)
                sys.exit(EXIT_CONFLICTS)
        try:
            copied = run_cancellable(copy_verified(source.aio, destination.aio, entry, target))
        except KeyboardInterrupt:
            click.echo("interrupted: nothing partial was left", err=True)
            sys.exit(130)
        except StorageError as e:
            fail(e)
        click.echo(f"copied {copied.path} ({copied.size} bytes, {copied.method}, {copied.checksum})")


@main.command(name="cp")
@store_arguments("src")
@store_arguments("dest")
@OVERWRITE
@JOBS
@REPORT
def cp_command(
    *,
    src: str,
    src_options: dict[str, Any],
    dest: str,
    dest_options: dict[str, Any],
    overwrite: bool,
    jobs: int,
    report_path: Path | None,
) -> None:
    """Copy a file or a folder from SRC to DEST, between any two stores, verified.

    A file goes to DEST, or into DEST if it ends with /. A folder's content goes into DEST, as migrate copies it
    (files with the same content skipped, differing ones left untouched unless --overwrite).
    """
    parent, name = _split(src)
    if name and not src.endswith("/"):
        with _open(parent, src_options) as source:
            try:
                is_file = not source.info(name).is_dir
            except StorageError as e:
                fail(e)
            if is_file:
                _copy_file(source, name, dest, dest_options, overwrite)
                return
    with _open(src, src_options) as source, _open(dest, dest_options) as target:
        _run_migration(
            source,
            target,
            dry_run=False,
            overwrite=overwrite,
            delete_source=False,
            jobs=jobs,
            report_path=report_path,
        )
