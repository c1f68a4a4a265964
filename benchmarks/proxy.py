"""A small round-robin TCP proxy on loopback, for running several portal nodes behind one address
in tests and benchmarks (production puts HAProxy or nginx there: README "Running N nodes").

Each client connection goes to the next backend in turn; a backend that refuses the connection
(a killed node) is skipped and left out for ``--cooldown`` seconds, so the clients of a dead node
move to the living ones at once. TCP mode (like HAProxy ``mode tcp``): a keep-alive connection
stays with the backend it was given, and a request in flight when its node dies fails (the client
retries it; a form's submission key makes the retry safe).

    python -m benchmarks.proxy --port PORT HOST1:PORT1 HOST2:PORT2

Prints ``listening on 127.0.0.1:PORT`` once it accepts connections; stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import sys
import time

BUFFER = 64 * 1024


class RoundRobinProxy:
    def __init__(self, backends: list[tuple[str, int]], *, cooldown: float = 1.0,
                 connect_timeout: float = 2.0) -> None:
        if not backends:
            raise ValueError("at least one backend")
        self.backends = backends
        self.cooldown = cooldown
        self.connect_timeout = connect_timeout
        self._turn = itertools.cycle(range(len(backends)))
        self._down_until = [0.0] * len(backends)
        self.connections = [0] * len(backends)  # connections handed to each backend so far

    async def _connect(self):
        """The next live backend's streams, trying each backend at most once."""
        now = time.monotonic()
        order = [next(self._turn) for _ in self.backends]
        # backends believed down go last, still tried (they may be back)
        order.sort(key=lambda i: self._down_until[i] > now)
        for index in order:
            host, port = self.backends[index]
            try:
                streams = await asyncio.wait_for(asyncio.open_connection(host, port), self.connect_timeout)
            except (OSError, asyncio.TimeoutError):
                self._down_until[index] = time.monotonic() + self.cooldown
                continue
            self._down_until[index] = 0.0
            self.connections[index] += 1
            return streams
        return None

    async def handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        upstream = await self._connect()
        if upstream is None:
            client_writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                b"Connection: close\r\n\r\n")
            await _close(client_writer)
            return
        backend_reader, backend_writer = upstream
        await asyncio.gather(_pipe(client_reader, backend_writer), _pipe(backend_reader, client_writer))

    async def serve(self, host: str, port: int, ready=None) -> None:
        server = await asyncio.start_server(self.handle, host, port, backlog=512)
        bound = server.sockets[0].getsockname()
        if ready is not None:
            ready(bound)
        async with server:
            await server.serve_forever()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(BUFFER)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        await _close(writer)


async def _close(writer: asyncio.StreamWriter) -> None:
    try:
        if writer.can_write_eof():
            writer.write_eof()
    except (OSError, RuntimeError):
        pass
    writer.close()
    try:
        await writer.wait_closed()
    except (ConnectionError, OSError):
        pass


def _backend(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cooldown", type=float, default=1.0)
    parser.add_argument("backends", nargs="+", type=_backend, metavar="HOST:PORT")
    args = parser.parse_args(argv)
    proxy = RoundRobinProxy(args.backends, cooldown=args.cooldown)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
        task = asyncio.create_task(proxy.serve(
            args.host, args.port, ready=lambda bound: print(f"listening on {bound[0]}:{bound[1]}", flush=True)))
        await asyncio.wait([task, stop], return_when=asyncio.FIRST_COMPLETED)
        task.cancel()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
