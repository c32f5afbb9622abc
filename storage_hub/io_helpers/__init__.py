"""Data and models from notebook code: ``read_data``, ``write_data``, ``read_model``, ``write_model``.

As functions on the default store (in a kernel, the Jupyter server's) and as methods of the stores
``storage_hub.open_store`` returns.
"""

from __future__ import annotations

from .data import DataStore, default_store, open_store, read_data, read_model, write_data, write_model

__all__ = ["DataStore", "default_store", "open_store", "read_data", "read_model", "write_data", "write_model"]
