"""Relais through a second, strict WebSocket implementation: Debian's
python3-websockets (which fails on any frame that breaks RFC 6455).

usage: /usr/bin/python3 websockets_peer.py RELAIS_SERVER_BINARY
"""
import asyncio
import subprocess
import sys
import tempfile

import websockets
from websockets.exceptions import ConnectionClosedError

# ClientMessage{hello: Hello{protocol_version: 1}}, encoded by hand: field 10,
# length-delimited, holding field 1 = varint 1.
HELLO = bytes([0x52, 0x02, 0x08, 0x01])
WELCOME_FIELD = 10


def top_level_fields(data: bytes) -> set:
    """Field numbers of a protobuf message's top level (varint and bytes)."""
    fields, i = set(), 0

    def varint():
        nonlocal i
        value, shift = 0, 0
        while True:
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value

    while i < len(data):
        key = varint()
        fields.add(key >> 3)
        wire = key & 7
        if wire == 0:
            varint()
        elif wire == 2:
            length = varint()  # before i is read again: varint() moves it
            i += length
        else:
            raise ValueError(f"unexpected wire type {wire}")
    return fields


async def check(url: str) -> None:
    async with websockets.connect(url, compression=None, max_size=1 << 20) as ws:
        await ws.send(HELLO)
        answer = await ws.recv()
        assert isinstance(answer, bytes), "the answer must be a binary frame"
        assert WELCOME_FIELD in top_level_fields(answer), "Hello must be answered by Welcome"
        pong = await ws.ping(b"relais")
        await asyncio.wait_for(pong, 5)
        await ws.close(1000, "fin")
        assert ws.close_code == 1000, f"close code {ws.close_code}"

    async with websockets.connect(url, compression=None) as ws:
        await ws.send("du texte")
        try:
            await asyncio.wait_for(ws.recv(), 5)
            raise AssertionError("a text frame was accepted")
        except ConnectionClosedError as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 1003, f"got {closed.rcvd}"

    async with websockets.connect(url, compression=None) as ws:
        await ws.send(HELLO)
        await ws.recv()
        # A frame over the server's limit (1 MiB by default): the server may
        # close while it is still being sent.
        try:
            await ws.send(bytes(2 * 1024 * 1024))
            await asyncio.wait_for(ws.recv(), 5)
            raise AssertionError("an oversized frame was accepted")
        except ConnectionClosedError as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 1009, f"got {closed.rcvd}"


def main() -> int:
    server_binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen(
            [server_binary, "serve", "--data", data, "--listen", "127.0.0.1:0",
             "--admin-listen", "off"],
            stdout=subprocess.PIPE, text=True)
        try:
            line = server.stdout.readline().strip()
            assert line.startswith("listening on "), line
            asyncio.run(check(line[len("listening on "):]))
        finally:
            server.terminate()
            server.wait(10)
    print("python3-websockets: handshake, binary message, ping/pong, close 1000, "
          "text -> 1003, oversized -> 1009: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
