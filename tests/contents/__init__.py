"""jupyter_server's own contents tests, ported to run against StorageContentsManager on every backend."""
