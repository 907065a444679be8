#!/usr/bin/python3
"""An always-accepting agent for the call-setup ramps: it accepts every WebSocket warmline opens,
reads and discards whatever arrives (the `start` frame, audio), and never sends anything.

Why it exists: warmline answers a call only once the agent's WebSocket is open (server/call.hpp), so a
setup-rate test needs an agent that costs as little as possible. It is not warmline-load's echo agent:
nothing is echoed, nothing is measured here. Its own CPU is read from /proc by the scenario driver, so a
reader can tell when it (not the gateway) is the bottleneck.

Needs Debian's python3-websockets (10.4): run it with /usr/bin/python3. Stops on SIGTERM/SIGINT or after
--max-seconds (every run is bounded).
"""

import argparse
import asyncio
import signal

import websockets


async def discard(ws, _path=None):
    try:
        async for _ in ws:
            pass
    except websockets.ConnectionClosed:
        pass


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", default="127.0.0.1:8790", help="host:port")
    ap.add_argument("--max-seconds", type=float, default=1800.0, help="exit after this long")
    args = ap.parse_args()
    host, port = args.listen.rsplit(":", 1)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    # compression=None: warmline does not negotiate permessage-deflate; no ping keep-alive traffic.
    async with websockets.serve(discard, host, int(port), compression=None, ping_interval=None,
                                max_size=None, backlog=4096):
        print(f"null_agent: listening on {host}:{port}", flush=True)
        try:
            await asyncio.wait_for(stop, timeout=args.max_seconds)
        except asyncio.TimeoutError:
            pass


if __name__ == "__main__":
    asyncio.run(main())
