"""A TCP pass-through on 127.0.0.1 that a test can cut and restore, to play a storage server going away."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from typing import Any


class _Relay(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        upstream = socket.create_connection(self.server.upstream)
        peers = {self.request: upstream, upstream: self.request}
        self.server.live.update(peers)
        try:
            threads = [threading.Thread(target=self._pump, args=(a, b), daemon=True) for a, b in peers.items()]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            for s in peers:
                self.server.live.discard(s)
                s.close()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, target):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, upstream: tuple[str, int]) -> None:
        super().__init__(("127.0.0.1", port), _Relay)
        self.upstream = upstream
        self.live: set[socket.socket] = set()


class TcpProxy:
    """``start()`` listens on a fixed port and relays to ``upstream``; ``stop()`` refuses and cuts every connection."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self._server: _Server | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server = _Server(self.port, self.upstream)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        for s in list(server.live):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> TcpProxy:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
