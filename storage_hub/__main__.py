"""``python -m storage_hub``: the ``storage-hub`` command."""

from .cli import run

run(prog_name="storage-hub")
