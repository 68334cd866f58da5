"""Two ways to reach a :class:`~recanalytics.sandbox.core.SandboxApp`: an in-process httpx
transport, and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from recanalytics import validate
from recanalytics.sandbox.core import SandboxApp, SandboxRequest


class SandboxTransport(httpx.AsyncBaseTransport):
    """Serve requests from the sandbox without a socket, with the same latency and faults."""

    #: a server of its own: its loads share a rate limiter with no other host's
    in_process = True

    def __init__(self, app: SandboxApp) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.app.latency:
            await asyncio.sleep(self.app.latency)
        await request.aread()
        sandbox_request = SandboxRequest.from_url(
            request.method, str(request.url), request.headers.multi_items()
        )
        response, fault = self.app.handle(sandbox_request)
        if fault == "drop":
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        if fault == "truncate":
            # As a connection cut mid-body: the full length is announced, half of it arrives
            # (the served sandbox does the same over a socket).
            headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
            headers["Content-Length"] = str(len(response.body))
            half = httpx.ByteStream(response.body[: len(response.body) // 2])
            return httpx.Response(response.status, headers=headers, stream=half, request=request)
        return httpx.Response(
            response.status, headers=response.headers, content=response.body, request=request
        )


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes: with Nagle's algorithm the body's last segment
    # waited for the client's delayed ACK, 40-60 ms on every request over loopback.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        app = self.server.app
        if app.latency:
            time.sleep(app.latency)
        url = f"http://{self.headers.get('Host', '127.0.0.1')}{self.path}"
        request = SandboxRequest.from_url("GET", url, self.headers.items())
        response, fault = app.handle(request)
        if fault == "drop":
            self.close_connection = True
            return
        # The answer's own Date (its emulator's clock), not http.server's second one.
        self.log_request(response.status)
        self.send_response_only(response.status)
        self.send_header("Server", self.version_string())
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if fault == "truncate":
            self.wfile.write(response.body[: len(response.body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # request lines would print credentials-free paths, but tests want quiet output


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops the SYNs of a client that opens its 24
    # connections at once, and each dropped SYN costs that request a 1 s retransmit.
    request_queue_size = 128

    def __init__(self, app: SandboxApp, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.app = app

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away before its answer (a load cancelled, a timeout) is no
        # server error: socketserver printed a traceback to stderr for each one.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class SandboxServer:
    """A real HTTP server for the sandbox on 127.0.0.1 (port 0 picks a free port).

    Use as a context manager, or call :meth:`start` / :meth:`stop`.

    Raises
    ------
    ConfigError
        ``port`` is not an integer from 0 to 65535 (a str or a bool is refused).
    OSError
        The port is taken, or may not be bound.
    """

    def __init__(self, app: SandboxApp, port: int = 0) -> None:
        validate.int_range(port, "port", 0, 65535)
        self._server = _Server(app, port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="recanalytics-sandbox", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SandboxServer:
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
