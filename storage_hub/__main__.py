"""``python -m storage_hub``: the ``storage-hub`` command."""

from .cli import main

main(prog_name="storage-hub")
