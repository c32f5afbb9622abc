"""The store options every command takes: a URL (or a store name) and the backend options.

Secrets are not options: credentials come from the AWS chain (environment, profile, instance role) or the stores
file, never from the command line.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..errors import StorageError
from ..registry import open_store
from .app import fail

__all__ = ["store_arguments", "with_store"]

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


def store_arguments(side: str | None = None) -> Callable[[F], F]:
    """The URL argument and the store options of a command, passed on as ``url`` and ``options``.

    With ``side`` (``"src"`` or ``"dest"``, for commands on two stores) the argument is ``SIDE``, the options are
    ``--SIDE-endpoint-url`` and so on, and they are passed on as ``SIDE`` and ``SIDE_options``.
    """
    flag = f"--{side}-" if side else "--"
    param = f"{side}_" if side else ""
    url_name, options_name = (side, f"{side}_options") if side else ("url", "options")
    whose = f" ({'source' if side == 'src' else 'destination'})" if side else ""
    names = ("endpoint_url", "region", "ca_bundle", "profile", "no_verify", "extra")

    def decorate(func: F) -> F:
        @click.argument(url_name)
        @click.option(f"{flag}endpoint-url", f"{param}endpoint_url", help=f"S3 / CORTX endpoint{whose}.")
        @click.option(f"{flag}region", f"{param}region", help=f"Signing region{whose}; CORTX: US.")
        @click.option(
            f"{flag}ca-bundle",
            f"{param}ca_bundle",
            type=click.Path(dir_okay=False),
            help=f"PEM file of the CAs to trust{whose}, for self-signed certificates.",
        )
        @click.option(f"{flag}profile", f"{param}profile", help=f"AWS profile to take credentials from{whose}.")
        @click.option(
            f"{flag}no-verify", f"{param}no_verify", is_flag=True, help=f"Do not verify TLS certificates{whose}."
        )
        @click.option(
            *(() if side else ("-o",)),
            f"{flag}option",
            f"{param}extra",
            multiple=True,
            callback=_parse_option,
            metavar="NAME=VALUE",
            help=f"Any other backend option{whose}, repeatable.",
        )
        @functools.wraps(func)
        def wrapper(**kwargs: Any) -> Any:
            given = {name: kwargs.pop(param + name) for name in names}
            extra, no_verify = given.pop("extra"), given.pop("no_verify")
            options: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
            if no_verify:
                options["verify"] = False
            return func(**{options_name: {**options, **extra}}, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def with_store(func: F) -> F:
    """Open the store the URL and options name, and pass it to ``func`` as its first argument."""

    @store_arguments()
    @functools.wraps(func)
    def wrapper(*, url: str, options: dict[str, Any], **kwargs: Any) -> Any:
        try:
            store = open_store(url, **options)
        except StorageError as e:
            fail(e)
        with store:
            try:
                return func(store, **kwargs)
            except StorageError as e:
                fail(e)

    return wrapper  # type: ignore[return-value]
