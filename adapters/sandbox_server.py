"""Serve a sandbox peer (any WSGI app) on a real loopback socket from a background thread."""

from __future__ import annotations

import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class QuietRequestHandler(WSGIRequestHandler):
    """No access log: request lines carry authorization codes, states and id_token hints in
    their query strings. Errors are still reported."""

    def log_request(self, code="-", size="-") -> None:
        pass


def serve_in_thread(app, host: str = "127.0.0.1", port: int = 0) -> tuple[BaseWSGIServer, threading.Thread]:
    """Start ``app`` on ``host:port`` (port 0 = any free port; read ``server.server_port``).

    Stop it with ``server.shutdown()`` (the socket is closed when the serve loop ends), then
    ``thread.join()``; or call ``stop_server(server, thread)``.
    """
    server = make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name=f"sandbox-{host}:{server.server_port}", daemon=True)
    thread.start()
    return server, thread


def stop_server(server: BaseWSGIServer, thread: threading.Thread, timeout: float = 5.0) -> None:
    server.shutdown()
    thread.join(timeout)


def serve_built_in_thread(build, host: str = "127.0.0.1", port: int = 0):
    """Bind first, then build the app for the bound base URL, then serve it.

    For peers whose app must know its own URL (an OIDC issuer includes the port) when the port
    is chosen by the OS. ``build(base_url) -> WSGI app``; returns ``(server, thread, base_url)``.
    """
    server = make_server(host, port, _not_ready, threaded=True, request_handler=QuietRequestHandler)
    netloc = f"[{host}]" if ":" in host else host
    base_url = f"http://{netloc}:{server.server_port}"
    try:
        server.app = build(base_url)
    except BaseException:
        server.server_close()
        raise
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name=f"sandbox-{host}:{server.server_port}", daemon=True)
    thread.start()
    return server, thread, base_url


def _not_ready(environ, start_response):  # replaced before the server accepts requests
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"not ready"]
