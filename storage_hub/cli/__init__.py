"""The ``storage-hub`` command: ``doctor``, ``ls``, ``lab``, ``cp`` and ``migrate``.

See :mod:`storage_hub.cli.app` for the exit codes.
"""

from __future__ import annotations

from . import store_commands, transfer_commands  # noqa: F401 - each registers its commands on `main`
from .app import main, run

__all__ = ["main", "run"]
