#!/usr/bin/python3
# A plain WebSocket broadcast server (every text frame to every client), on
# Debian's python3-websockets: what relais-bench --compare-raw is checked
# against in the smoke test. Measurements use the Node ws peer in
# clients/bench/ws-peer. Prints "listening on ws://127.0.0.1:PORT".
import asyncio
import sys

import websockets

clients = set()


async def handler(socket, *_):
    clients.add(socket)
    try:
        async for message in socket:
            websockets.broadcast(clients, message)
    finally:
        clients.discard(socket)


async def main():
    async with websockets.serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on ws://127.0.0.1:{port}", flush=True)
        await asyncio.Future()


asyncio.run(main())
