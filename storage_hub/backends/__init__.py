"""Backends: each turns a StoreConfig into I/O on one kind of storage (see :mod:`storage_hub.registry`)."""
