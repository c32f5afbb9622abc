"""The ``storage-hub`` command group and how it fails.

Exit codes (every command): 0 success; 1 a check or an operation failed (one line on stderr says why and what to
do); 2 the command line itself is wrong; 3 (``migrate``, ``cp``) everything else done, but files that differ at
the destination were left untouched (rerun with ``--overwrite`` to replace them).
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from ..errors import StorageError

__all__ = ["EXIT_CONFLICTS", "EXIT_FAILED", "fail", "main"]

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
