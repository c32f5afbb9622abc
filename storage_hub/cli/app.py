"""The ``storage-hub`` command group and how it fails.

Exit codes (every command): 0 success; 1 a check or an operation failed (one line on stderr says why and what to
do); 2 the command line itself is wrong; 3 (``migrate``, ``cp``) everything else done, but files that differ at
the destination were left untouched (rerun with ``--overwrite`` to replace them).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from typing import NoReturn

import click

from ..errors import StorageError

__all__ = ["EXIT_CONFLICTS", "EXIT_FAILED", "fail", "main", "run"]

EXIT_FAILED = 1
EXIT_CONFLICTS = 3


def fail(error: StorageError) -> NoReturn:
    """One line on stderr, exit code 1: no traceback reaches the user."""
    click.echo(f"error: {error}", err=True)
    sys.exit(EXIT_FAILED)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="storage-hub")
def main() -> None:
    """storage-hub: notebooks, files and data on local disk, S3, CORTX or any fsspec store.

    Exit codes: 0 success; 1 a check or an operation failed (stderr says why and what to do); 2 a wrong command
    line; 3 (migrate, cp) done, but files that differ at the destination were left untouched.
    """


def run(prog_name: str | None = None) -> NoReturn:
    """The ``storage-hub`` console script: :func:`main`, then out at once.

    Once a command is done, its output flushed and the exit handlers run (``logging``, ``weakref.finalize``,
    temporary files), the process ends without freeing the objects Python made one by one: with botocore's S3
    model loaded that takes 0.15-0.25 s, a fifth of a short command such as ``storage-hub ls``. Every command
    has awaited its own work and closed its stores by then; threads still alive are idle pool workers. An
    exception other than ``SystemExit`` (a bug) leaves the normal way, with its traceback.
    """
    try:
        main(prog_name=prog_name)
        code: object = 0
    except SystemExit as done:
        code = done.code
    if isinstance(code, str):  # what sys.exit("message") means: the message on stderr, status 1
        print(code, file=sys.stderr)
    status = code if isinstance(code, int) else 0 if code is None else EXIT_FAILED
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe (`storage-hub ls | head`): nothing left to say
            stream.flush()
    os._exit(status)
