"""``doctor``, ``ls`` and ``lab``: the commands that work on one store."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from typing import Any

import click

from ..config import ENV_STORE, ENV_STORE_OPTIONS, resolve
from ..errors import StorageError
from ..store import Store
from .app import fail, main
from .options import store_arguments, with_store

#: The contents manager ``storage-hub lab`` runs JupyterLab with (named, not imported: the CLI does not import
#: the Jupyter layer).
CONTENTS_MANAGER = "storage_hub.contents.StorageContentsManager"


@main.command()
@with_store
def doctor(store: Store) -> None:
    """Check that the store at URL works: reachability, credentials, clock, bucket, capabilities.

    Prints one line per check and, if one fails, one line saying what to fix (exit code 1).
    """
    checks = store.diagnose()
    width = max(len(c.name) for c in checks)
    for check in checks:
        mark = click.style("ok  ", fg="green") if check.ok else click.style("FAIL", fg="red")
        click.echo(f"{mark}  {check.name:<{width}}  {check.detail}")
    failed = [c for c in checks if not c.ok]
    if failed:
        click.echo(f"fix: {failed[0].fix or failed[0].detail}", err=True)
        sys.exit(1)
    click.echo(f"{store.config.url}: all checks passed")


@main.command(name="ls")
@with_store
@click.argument("path", default="")
@click.option("-r", "--recursive", is_flag=True, help="List everything below PATH.")
def ls_command(store: Store, path: str, recursive: bool) -> None:
    """List PATH (default: the root) of the store at URL, with sizes and modification times."""
    entries = store.find(path) if recursive else store.ls(path)
    for entry in entries:
        when = entry.last_modified.strftime("%Y-%m-%d %H:%M:%S") if entry.last_modified else " " * 19
        size = "-" if entry.is_dir else str(entry.size)
        name = entry.path + ("/" if entry.is_dir else "")
        click.echo(f"{size:>12}  {when}  {name}")


@main.command(context_settings={"ignore_unknown_options": True})
@store_arguments()
@click.option("--port", type=int, help="Port of the Jupyter server (default: 8888, or the next free one).")
@click.option("--ip", help="Interface to listen on (default: localhost).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
@click.argument("jupyter_args", nargs=-1, type=click.UNPROCESSED)
def lab(
    *,
    url: str,
    options: dict[str, Any],
    port: int | None,
    ip: str | None,
    no_browser: bool,
    jupyter_args: tuple[str, ...],
) -> None:
    """Run JupyterLab on the store at URL: notebooks, files and checkpoints live there.

    Further arguments go to JupyterLab, e.g. ``storage-hub lab s3://b/ -- --ServerApp.token=x``. The store is
    checked first; if it cannot be used, one line says what to fix (exit code 1). The store is handed over in
    STORAGE_HUB_STORE and STORAGE_HUB_STORE_OPTIONS, so kernels inherit it: ``open_store()`` with no argument in
    a notebook opens the same store.
    """
    try:
        resolve(url, **options)  # a malformed URL or option fails here, with one line
    except StorageError as e:
        fail(e)
    if importlib.util.find_spec("jupyterlab") is None:
        click.echo("error: JupyterLab is not installed; install it with: pip install 'storage-hub[lab]'", err=True)
        sys.exit(1)
    # The URL also goes on the command line, where it takes precedence over a jupyter_server_config.py.
    argv = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.contents_manager_class={CONTENTS_MANAGER}",
        f"--StorageContentsManager.store_url={url}",
    ]
    if port is not None:
        argv.append(f"--ServerApp.port={port}")
    if ip is not None:
        argv.append(f"--ServerApp.ip={ip}")
    if no_browser:
        argv.append("--ServerApp.open_browser=False")
    argv.extend(jupyter_args)
    os.environ[ENV_STORE] = url
    os.environ[ENV_STORE_OPTIONS] = json.dumps(options)
    sys.stdout.flush()
    os.execv(sys.executable, argv)
