"""The ``storage-hub`` command.

Exit codes: 0 success; 1 a check or an operation failed (one line on stderr says why and what to do);
2 the command line itself is wrong.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from .errors import StorageError
from .registry import open_store
from .store import Store

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])


def _parse_option(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for item in values:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", ctx, param)
        lowered = raw.lower()
        value: Any = raw
        if lowered in ("true", "false"):
            value = lowered == "true"
        elif raw.isdigit():
            value = int(raw)
        parsed[name.replace("-", "_")] = value
    return parsed


def store_options(func: F) -> F:
    """The options every command that opens a store takes. Secrets are not options: use the AWS chain."""

    @click.argument("url")
    @click.option("--endpoint-url", help="S3 / CORTX endpoint, e.g. https://10.0.0.5:443.")
    @click.option("--region", help="Signing region (CORTX: US).")
    @click.option("--ca-bundle", type=click.Path(dir_okay=False), help="PEM file of CAs to trust (self-signed).")
    @click.option("--profile", help="AWS profile to take credentials from.")
    @click.option("--no-verify", is_flag=True, help="Do not verify TLS certificates (test servers only).")
    @click.option(
        "-o",
        "--option",
        "extra",
        multiple=True,
        callback=_parse_option,
        metavar="NAME=VALUE",
        help="Any other backend option, repeatable.",
    )
    @functools.wraps(func)
    def wrapper(
        *,
        url: str,
        endpoint_url: str | None,
        region: str | None,
        ca_bundle: str | None,
        profile: str | None,
        no_verify: bool,
        extra: dict[str, Any],
        **kwargs: Any,
    ) -> Any:
        options: dict[str, Any] = {
            "endpoint_url": endpoint_url,
            "region": region,
            "ca_bundle": ca_bundle,
            "profile": profile,
        }
        if no_verify:
            options["verify"] = False
        try:
            store = open_store(url, **options, **extra)
        except StorageError as e:
            _fail(e)
        with store:
            try:
                return func(store, **kwargs)
            except StorageError as e:
                _fail(e)

    return wrapper  # type: ignore[return-value]


def _fail(error: StorageError) -> None:
    click.echo(f"error: {error}", err=True)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="storage-hub")
def main() -> None:
    """storage-hub: notebooks, files and data on local disk, S3, CORTX or any fsspec store."""


@main.command()
@store_options
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
    click.echo(f"{store.url}: all checks passed")


@main.command(name="ls")
@store_options
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
