"""A provider-dialect bot for the e2e tests: a WebSocket server on 127.0.0.1 that records every frame
warmline sends (JSON text frames parsed, binary frames as bytes) and sends what the test tells it to.

What a bot of each provider sends and expects is written in each test from the provider's published
documentation, not from warmline's code: this class only moves frames. It runs the `websockets`
asyncio server in a thread of its own; the test thread talks to it through thread-safe methods.
"""
import asyncio
import json
import threading
import time

import websockets

from harness import wait_for


class Frame:
    """One frame from warmline: `at` (monotonic time received), `text` (str) or `data` (bytes), and
    `json` (the parsed object of a text frame, or None)."""

    def __init__(self, at, message):
        self.at = at
        self.text = message if isinstance(message, str) else None
        self.data = message if isinstance(message, bytes) else None
        self.json = json.loads(message) if self.text is not None else None

    def __repr__(self):
        return f"Frame({self.text if self.text is not None else f'<{len(self.data)} bytes>'})"


class DialectBot:
    """Accepts connections (each is numbered from 1 in the order accepted). `path` the gateway asked
    for, and its handshake headers, are kept per connection."""

    def __init__(self, case, path="/stream"):
        self.path = path
        self._lock = threading.Lock()
        self._frames = {}    # connection number -> [Frame]
        self._sockets = {}   # connection number -> websocket
        self._requests = {}  # connection number -> (path, headers)
        self._closed = {}    # connection number -> monotonic time the socket closed
        self._loop = asyncio.new_event_loop()
        started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(started,), name="dialect-bot", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise AssertionError("the dialect bot did not start")
        case.addCleanup(self.stop)

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}{self.path}"

    def _run(self, started):
        asyncio.set_event_loop(self._loop)

        async def serve():
            self._server = await websockets.serve(self._handle, "127.0.0.1", 0, max_size=2 ** 22)
            self.port = self._server.sockets[0].getsockname()[1]
            started.set()
        self._loop.run_until_complete(serve())
        self._loop.run_forever()

    async def _handle(self, ws, path):
        with self._lock:
            n = len(self._sockets) + 1
            self._sockets[n] = ws
            self._frames[n] = []
            self._requests[n] = (path, dict(ws.request_headers))
        try:
            async for message in ws:
                with self._lock:
                    self._frames[n].append(Frame(time.monotonic(), message))
        except websockets.ConnectionClosed:
            pass
        finally:
            with self._lock:
                self._closed[n] = time.monotonic()

    def stop(self):
        async def shutdown():
            self._server.close()
            await self._server.wait_closed()
        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=5)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    # -- test thread --------------------------------------------------------------------------------

    def send(self, message, conn=1):
        """Sends a frame: a dict (as JSON text), a str (as is) or bytes (binary)."""
        if isinstance(message, dict):
            message = json.dumps(message)
        with self._lock:
            ws = self._sockets[conn]
        asyncio.run_coroutine_threadsafe(ws.send(message), self._loop).result(timeout=5)

    def send_many(self, messages, conn=1):
        """Sends frames back to back, in order, from the bot's own thread (no gaps between them)."""
        encoded = [json.dumps(m) if isinstance(m, dict) else m for m in messages]
        with self._lock:
            ws = self._sockets[conn]

        async def all_of_them():
            for m in encoded:
                await ws.send(m)
        asyncio.run_coroutine_threadsafe(all_of_them(), self._loop).result(timeout=10)

    def close(self, conn=1):
        with self._lock:
            ws = self._sockets[conn]
        asyncio.run_coroutine_threadsafe(ws.close(), self._loop).result(timeout=5)

    def connections(self):
        with self._lock:
            return len(self._sockets)

    def request(self, conn=1):
        with self._lock:
            return self._requests[conn]

    def frames(self, conn=1):
        with self._lock:
            return list(self._frames.get(conn, ()))

    def closed_at(self, conn=1):
        with self._lock:
            return self._closed.get(conn)

    def events(self, key="event", conn=1, **fields):
        """The JSON frames whose `key` is set and whose top-level fields equal `fields`."""
        return [f for f in self.frames(conn) if f.json is not None and key in f.json
                and all(f.json.get(k) == v for k, v in fields.items())]

    def wait_frame(self, predicate, what, timeout=15, conn=1):
        """The first frame (in arrival order) for which predicate(frame) is true."""
        def found():
            for f in self.frames(conn):
                if predicate(f):
                    return f
            return None
        return wait_for(found, timeout, what)

    def wait_event(self, event, timeout=15, conn=1, key="event", **fields):
        return self.wait_frame(lambda f: f.json is not None and f.json.get(key) == event
                               and all(f.json.get(k) == v for k, v in fields.items()),
                               f"{key} {event!r} {fields or ''} from warmline", timeout, conn)

    def wait_connection(self, timeout=15, conn=1):
        wait_for(lambda: self.connections() >= conn, timeout, f"warmline to connect to the bot ({conn})")
