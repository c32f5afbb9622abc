"""Migration between two stores: plan, copy (server-side where possible), verify, resume, report.

``storage-hub migrate SRC DST`` is the command; :func:`migrate` the coroutine behind it.
"""

from __future__ import annotations

from .plan import Conflict, Plan, make_plan
from .run import DEFAULT_JOBS, DEFAULT_MEMORY, MigrationReport, Progress, migrate, run_cancellable
from .transfer import Copied, MemoryBudget, copy_verified

__all__ = [
    "DEFAULT_JOBS",
    "DEFAULT_MEMORY",
    "Conflict",
    "Copied",
    "MemoryBudget",
    "MigrationReport",
    "Plan",
    "Progress",
    "copy_verified",
    "make_plan",
    "migrate",
    "run_cancellable",
]
