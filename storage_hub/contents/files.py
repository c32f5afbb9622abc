"""``/files/...`` (and JupyterLab's Download) streamed from the store, chunk by chunk."""

from __future__ import annotations

import mimetypes
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from tornado import web

from .http_errors import http_errors

__all__ = ["StoreFilesHandler"]

CHUNK = 4 * 2**20


class StoreFilesHandler(JupyterHandler):
    """Serves the raw bytes of a file, streamed: memory does not grow with the file."""

    auth_resource = "contents"

    @property
    def content_security_policy(self) -> str:
        # HTML or SVG served from here must not script the Jupyter server's origin.
        return str(super().content_security_policy) + "; sandbox allow-scripts"

    @web.authenticated
    @authorized
    async def head(self, path: str) -> None:
        await self._serve(path, include_body=False)

    @web.authenticated
    @authorized
    async def get(self, path: str) -> None:
        await self._serve(path, include_body=True)

    async def _serve(self, path: str, include_body: bool) -> None:
        self.check_xsrf_cookie()
        cm: Any = self.contents_manager
        path = path.strip("/")
        if not cm.allow_hidden and await ensure_async(cm.is_hidden(path)):
            raise web.HTTPError(404)
        name = path.rpartition("/")[2]
        if self.get_argument("download", None):
            self.set_attachment_header(name)
        self._set_type(name)
        with http_errors(path):
            reader = await cm.store.open_read(path)
            try:
                self.set_header("Content-Length", str(reader.size))
                if include_body:
                    while chunk := await reader.read(CHUNK):
                        self.write(chunk)
                        await self.flush()
            finally:
                await reader.close()

    def _set_type(self, name: str) -> None:
        if name.lower().endswith(".ipynb"):
            self.set_header("Content-Type", "application/x-ipynb+json")
            return
        mime, encoding = mimetypes.guess_type(name)
        if encoding == "gzip":
            self.set_header("Content-Type", "application/gzip")
        elif encoding is not None or mime is None:
            self.set_header("Content-Type", "application/octet-stream")
        elif mime == "text/plain":
            self.set_header("Content-Type", "text/plain; charset=UTF-8")
        else:
            self.set_header("Content-Type", mime)
