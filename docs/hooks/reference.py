"""MkDocs hook: the reference sections of the documentation, generated from the code at build time.

A page asks for a section with a marker on a line of its own::

    <!-- generated: s3-options -->

and the hook replaces the marker with Markdown built from the imported ``storage_hub`` package, so the
documentation cannot drift from the code. An unknown marker, a trait without ``help`` or an S3 option without
``help`` metadata fails the build. The sections are the keys of ``SECTIONS`` at the end of this file.

Texts that the code writes as Markdown (trait ``help``, S3 option ``help``) are used as they are; texts that are
plain strings at run time (error messages) are escaped.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import inspect
import re
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

MARKER = re.compile(r"^<!-- generated: ([a-z0-9-]+) -->$", re.MULTILINE)
MiB = 2**20
GiB = 2**30
#: Placeholders that stand for the user's values in generated error messages.
ENDPOINT = "<endpoint>"
KEY = "<bucket>/<path>"
KEY_ID = "AKIA***"
#: Inherited Jupyter options that change what StorageContentsManager shows (the rest are jupyter_server's).
INHERITED_CONTENTS_TRAITS = ("allow_hidden", "hide_globs")


def on_page_markdown(markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace every ``<!-- generated: NAME -->`` line of a page with the section NAME."""

    def generate(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in SECTIONS:
            raise PluginError(f"{page.file.src_uri}: unknown generated section {name!r}; known: {sorted(SECTIONS)}")
        return SECTIONS[name]()

    return MARKER.sub(generate, markdown)


# -- Markdown helpers -------------------------------------------------------------------------------------------
def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows)
    return "\n".join(lines) + "\n"


def _plain(text: str) -> str:
    """A run-time string shown as text: Markdown and HTML characters escaped."""
    escaped = re.sub(r"([\\`*_\[\]])", r"\\\1", text)
    return html.escape(escaped, quote=False)


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _size(value: int) -> str:
    """``8388608`` -> ``8 MiB``; other numbers as they are."""
    for unit, size in (("GiB", GiB), ("MiB", MiB)):
        if value >= size and value % size == 0:
            return f"{value // size} {unit}"
    return str(value)


def _value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return _code(str(value))
    if isinstance(value, int):
        return _code(_size(value))
    return _code(repr(value))


def _numpydoc_items(doc: str, section: str) -> dict[str, str]:
    """The ``name:`` entries of one numpydoc section (``Attributes``, ``Parameters``) of a docstring."""
    lines = inspect.cleandoc(doc).splitlines()
    items: dict[str, str] = {}
    inside = False
    current: str | None = None
    for i, line in enumerate(lines):
        underline = i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}
        if underline:
            inside = line.strip() == section
            current = None
        elif inside and line and not line[0].isspace() and set(line) != {"-"}:
            current = line.rstrip(":").strip()
            items[current] = ""
        elif inside and current is not None and line.strip():
            items[current] = (items[current] + " " + line.strip()).strip()
    return items


def _rst_to_markdown(doc: str) -> str:
    """A reST/numpydoc docstring as Markdown: inline literals and roles, ``::`` blocks, numbered lists, sections."""
    text = re.sub(r":[a-z]+:`~?(?:[\w.]+\.)?([\w]+)`", r"``\1``", inspect.cleandoc(doc))
    text = re.sub(r"``(.+?)``", r"`\1`", text)
    out: list[str] = []
    lines = text.splitlines()
    in_list = False
    literal_indent: int | None = None
    for i, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if line.strip() and indent < literal_indent:
                literal_indent = None
            else:
                # An indented code block; inside a list item it needs the item's 4 spaces as well.
                out.append(((" " * (8 if in_list else 4)) + line[literal_indent:]) if line.strip() else "")
                continue
        if i + 1 < len(lines) and line.strip() and set(lines[i + 1].strip()) == {"-"}:
            out.append(f"**{line.strip()}**")
            continue
        if set(line.strip()) == {"-"}:
            continue
        if re.match(r"\d+\. ", line):
            in_list = True
        elif line.strip() and indent == 0:
            in_list = False
        if line.rstrip().endswith("::"):
            # "a table per store::" introduces a literal block: keep one colon, indent what follows as code.
            following = next((n for n in lines[i + 1 :] if n.strip()), "")
            literal_indent = len(following) - len(following.lstrip())
            out.append(line.rstrip()[:-1])
        else:
            out.append(line)
    return "\n".join(out).strip() + "\n"


def _builtin_base(kind: type) -> str:
    """The builtin exception a storage-hub error also is (``NotFound`` -> ``FileNotFoundError``)."""
    for base in kind.__mro__:
        if base.__module__ == "builtins" and base not in (Exception, BaseException, object):
            return base.__name__
    return "Exception"


# -- Jupyter options ------------------------------------------------------------------------------------------
def _trait_type(trait: Any) -> str:
    from traitlets import Enum

    if isinstance(trait, Enum):
        values = list(trait.values or ())
        if len(values) <= 8:
            return "one of " + ", ".join(_code(str(v)) for v in values)
        return "a name, see the description"
    names = {"Unicode": "str", "Bool": "bool", "Int": "int", "Integer": "int", "Float": "float"}
    name = type(trait).__name__
    return _code(names.get(name, name.lower()))


def _has_computed_default(cls: type, name: str) -> bool:
    from traitlets.traitlets import DefaultHandler

    return any(
        isinstance(member, DefaultHandler) and member.trait_name == name
        for klass in cls.__mro__
        for member in vars(klass).values()
    )


def _traits_table(cls: Any, traits: Mapping[str, Any]) -> str:
    rows = []
    for name in sorted(traits):
        trait = traits[name]
        help_text = _one_line(trait.help or "")
        if not help_text:
            raise PluginError(f"{cls.__name__}.{name} has no help text: add help=... to the trait")
        default = (
            "computed, see the description" if _has_computed_default(cls, name) else _code(trait.default_value_repr())
        )
        rows.append((_code(f"{cls.__name__}.{name}"), _trait_type(trait), default, help_text))
    return _table(("option", "type", "default", "description"), rows)


def _own_options(cls: Any) -> dict[str, Any]:
    """The configurable traits that storage-hub itself defines on ``cls`` (not those inherited from Jupyter)."""
    return {
        name: trait
        for name, trait in cls.class_traits(config=True).items()
        if trait.this_class.__module__.startswith("storage_hub.")
    }


def contents_manager() -> str:
    from storage_hub.contents import StorageContentsManager

    return _traits_table(StorageContentsManager, _own_options(StorageContentsManager))


def contents_inherited() -> str:
    from jupyter_server.services.contents.manager import ContentsManager

    from storage_hub.contents import StorageContentsManager

    traits = StorageContentsManager.class_traits(config=True)
    return _traits_table(ContentsManager, {name: traits[name] for name in INHERITED_CONTENTS_TRAITS})


def checkpoints() -> str:
    from storage_hub.contents import StoreCheckpoints

    return _traits_table(StoreCheckpoints, _own_options(StoreCheckpoints))


# -- Store options ---------------------------------------------------------------------------------------------
def s3_options() -> str:
    from storage_hub.backends.s3_options import S3Options

    rows = []
    for field in dataclasses.fields(S3Options):
        help_text = field.metadata.get("help")
        if not help_text:
            raise PluginError(f"S3Options.{field.name} has no description: add metadata={{'help': ...}}")
        if field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            default = None
        rows.append((_code(field.name), _code(str(field.type)), _value(default), _one_line(help_text)))
    return _table(("option", "type", "default", "description"), rows)


def cortx_defaults() -> str:
    from storage_hub.backends.cortx import CortxBackend
    from storage_hub.backends.s3 import S3Backend
    from storage_hub.backends.s3_options import S3Options

    defaults = {f.name: f.default for f in dataclasses.fields(S3Options)}
    rows = [
        (_code(name), _value({**defaults, **S3Backend.option_defaults}.get(name)), _value(value))
        for name, value in CortxBackend.option_defaults.items()
    ]
    return _table(("option", "`s3://` default", "`cortx://` default"), rows)


def capabilities() -> str:
    from storage_hub.backend import Backend, Capabilities
    from storage_hub.backends.cortx import CortxBackend
    from storage_hub.backends.fsspec_url import FsspecBackend
    from storage_hub.backends.local import LocalBackend
    from storage_hub.backends.s3 import S3Backend

    described = _numpydoc_items(Capabilities.__doc__ or "", "Attributes")
    columns: dict[str, type[Backend]] = {
        "`s3://`": S3Backend,
        "`cortx://`": CortxBackend,
        "`file://`": LocalBackend,
        "other fsspec": FsspecBackend,
    }
    rows = []
    for field in dataclasses.fields(Capabilities):
        if field.name not in described:
            raise PluginError(f"Capabilities.{field.name} is not described in the class docstring")
        cells = []
        for backend in columns.values():
            value = getattr(backend.capabilities, field.name)
            if isinstance(value, bool):
                cells.append("yes" if value else "no")
            else:
                cells.append("no limit" if value is None else _size(value))
        rows.append((_code(field.name), *cells, _rst_to_markdown(described[field.name]).strip()))
    return _table(("capability", *columns, "meaning"), rows)


def store_resolution() -> str:
    from storage_hub import config

    module = (config.__doc__ or "").split("\n", 1)[1]
    resolve = _numpydoc_items(config.resolve.__doc__ or "", "Parameters")
    params = "\n".join(f"- `{name}`: {_rst_to_markdown(text).strip()}" for name, text in resolve.items())
    return f"{_rst_to_markdown(module)}\nThe arguments of `open_store()` and `resolve()`:\n\n{params}\n"


# -- Errors ----------------------------------------------------------------------------------------------------
@functools.cache
def _advices() -> tuple[Any, Any]:
    """The wording of the S3 backend and of the CORTX backend, with the placeholders for endpoint and key."""
    from storage_hub.backends.cortx import CortxBackend
    from storage_hub.backends.s3 import S3Backend
    from storage_hub.config import resolve

    s3 = S3Backend(resolve("s3://bucket/", endpoint_url="https://s3.example"))
    cortx = CortxBackend(resolve("cortx://bucket/", endpoint_url="https://cortx.example:443"))
    return (
        dataclasses.replace(s3.make_advice(KEY_ID), endpoint=ENDPOINT),
        dataclasses.replace(cortx.make_advice(KEY_ID), endpoint=ENDPOINT),
    )


def _error_row(label: str, failure: BaseException) -> tuple[str, ...]:
    """One row: what happened, the error raised, its HTTP status in Jupyter, the message (and CORTX's wording)."""
    from storage_hub.backends.s3_errors import translate
    from storage_hub.contents.http_errors import status_of

    s3, cortx = _advices()
    error = translate(failure, KEY, s3)
    message = _plain(str(error))
    cortx_message = str(translate(failure, KEY, cortx))
    if cortx_message.replace(cortx.product, s3.product) != str(error):
        message += f"<br>**CORTX:** {_plain(cortx_message)}"
    kind = type(error)
    return (label, f"`{kind.__name__}` ({_builtin_base(kind)})", str(status_of(error)), message)


def s3_error_codes() -> str:
    from botocore.exceptions import ClientError

    from storage_hub.backends.s3_errors import ERROR_CODES

    def client_error(code: str, status: int = 400) -> ClientError:
        reply: Any = {
            "Error": {"Code": code, "Message": "<message from the server>"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return ClientError(reply, "GetObject")

    # Codes that the table maps to the same function share a row.
    by_builder: dict[object, list[str]] = {}
    for code, build in ERROR_CODES.items():
        by_builder.setdefault(build, []).append(code)
    rows = [_error_row(", ".join(_code(c) for c in codes), client_error(codes[0])) for codes in by_builder.values()]
    rows.append(_error_row("any other code, HTTP 5xx", client_error("<Code>", 503)))
    rows.append(_error_row("any other code", client_error("<Code>")))
    return _table(("S3 error code", "error raised", "HTTP status in Jupyter", "message"), rows)


def client_failures() -> str:
    from botocore.exceptions import EndpointConnectionError, NoCredentialsError, ReadTimeoutError, SSLError

    certificate = ssl.SSLError("CERTIFICATE_VERIFY_FAILED")
    failures: list[tuple[str, BaseException]] = [
        ("TLS: the server's certificate is not trusted", SSLError(endpoint_url=ENDPOINT, error=certificate)),
        ("no credentials found", NoCredentialsError()),
        ("the endpoint cannot be reached", EndpointConnectionError(endpoint_url=ENDPOINT)),
        ("no answer within `read_timeout`", ReadTimeoutError(endpoint_url=ENDPOINT)),
    ]
    rows = [_error_row(label, failure) for label, failure in failures]
    return _table(("failure", "error raised", "HTTP status in Jupyter", "message"), rows)


def error_types() -> str:
    from storage_hub import errors
    from storage_hub.contents.http_errors import status_of

    rows = []
    for name in errors.__all__:
        kind = getattr(errors, name)
        status = status_of(kind.__new__(kind))
        doc = _rst_to_markdown(inspect.getdoc(kind) or "").split("\n\n")[0]
        rows.append((_code(name), _code(_builtin_base(kind)), str(status), _one_line(doc)))
    return _table(("error", "also a", "HTTP status in Jupyter", "meaning"), rows)


# -- Data and models --------------------------------------------------------------------------------------------
def data_formats() -> str:
    from storage_hub.io_helpers.formats import DATA_FORMATS

    rows = [
        (", ".join(_code(ext) for ext in fmt.extensions), fmt.accepts, _code(f'as_="{fmt.kind}"'), fmt.library)
        for fmt in DATA_FORMATS
    ]
    return _table(("extension", "write_data accepts", "read_data returns it with", "written and read by"), rows)


def model_formats() -> str:
    from storage_hub.io_helpers.ml_models import MODEL_FORMATS

    rows = [
        (
            ", ".join(_code(ext) for ext in fmt.extensions),
            fmt.library,
            "only with `trusted=True` (a pickle)" if fmt.needs_trust else "yes",
        )
        for fmt in MODEL_FORMATS
    ]
    return _table(("extension", "library", "read_model loads it by default"), rows)


# -- Command line ------------------------------------------------------------------------------------------------
def cli_reference() -> str:
    import click

    from storage_hub.cli import main

    context = click.Context(main, info_name="storage-hub")
    parts = [_one_line(inspect.cleandoc(main.help or "")) + "\n"]
    for name, command in sorted(main.commands.items()):
        sub = click.Context(command, info_name=name, parent=context)
        usage = " ".join(command.collect_usage_pieces(sub))
        parts.append(f"### `storage-hub {name}`\n\n```\nstorage-hub {name} {usage}\n```\n")
        parts.append(inspect.cleandoc(command.help or "").replace("``", "`") + "\n")
        rows = []
        for param in command.params:
            if isinstance(param, click.Option):
                record = param.get_help_record(sub)
                if record:
                    rows.append((_code(record[0]), _one_line(record[1])))
        if rows:
            parts.append(_table(("option", "meaning"), rows))
    return "\n".join(parts)


SECTIONS: dict[str, Callable[[], str]] = {
    "cli-reference": cli_reference,
    "data-formats": data_formats,
    "model-formats": model_formats,
    "contents-manager": contents_manager,
    "contents-inherited": contents_inherited,
    "checkpoints": checkpoints,
    "s3-options": s3_options,
    "cortx-defaults": cortx_defaults,
    "capabilities": capabilities,
    "store-resolution": store_resolution,
    "s3-error-codes": s3_error_codes,
    "client-failures": client_failures,
    "error-types": error_types,
}
