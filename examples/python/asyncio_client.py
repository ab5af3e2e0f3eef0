"""Talk to a Ferry server from asyncio, with the standard library only.

Ferry speaks the wire format of multiprocessing.connection: each message is a 4-byte big-endian
length and the payload (lengths over 2 GiB: the length -1, then 8 bytes), and a Listener with an
authkey runs the mutual HMAC handshake first. multiprocessing.connection itself blocks, so an
asyncio program (the kind that uses aiopipe) frames the stream by hand on asyncio streams, as
here, and needs no extra package.

    FERRY_AUTHKEY=<hex> python asyncio_client.py unix:/tmp/ferry.sock 20 5
    FERRY_AUTHKEY=<hex> python asyncio_client.py tcp:127.0.0.1:6000 20 5

opens 20 connections at once, sends 5 messages on each, checks the echoes, and prints one line
"ok <connections> <messages>" when every reply came back intact.
"""

import asyncio
import hmac
import os
import struct
import sys

CHALLENGE = b"#CHALLENGE#"
WELCOME = b"#WELCOME#"
FAILURE = b"#FAILURE#"
MAX_HANDSHAKE_MESSAGE = 256


async def send_message(writer, payload):
    if len(payload) > 0x7FFFFFFF:
        header = struct.pack("!i", -1) + struct.pack("!Q", len(payload))
    else:
        header = struct.pack("!i", len(payload))
    writer.write(header + payload)
    await writer.drain()  # backpressure: waits while the socket buffer is full


async def receive_message(reader, max_length=None):
    (length,) = struct.unpack("!i", await reader.readexactly(4))
    if length == -1:
        (length,) = struct.unpack("!Q", await reader.readexactly(8))
    elif length < 0:
        raise ConnectionError(f"negative message length: {length}")
    if max_length is not None and length > max_length:
        raise ConnectionError("bad message length")
    return await reader.readexactly(length)


def _digest_and_payload(message):
    """CPython's _get_digest_name_and_payload, for the names Ferry and CPython offer."""
    if len(message) in (16, 20):
        return "md5", message
    if message.startswith(b"{"):
        end = message.find(b"}", 1, 10)
        if end > 0:
            name = message[1:end].decode("ascii")
            if name in ("md5", "sha256", "sha384", "sha3_256", "sha3_384"):
                return name, message[end + 1:]
    raise ConnectionError(f"unsupported digest: message={message!r}")


async def answer_challenge(reader, writer, key):
    """multiprocessing.connection.answer_challenge, on asyncio streams."""
    message = await receive_message(reader, MAX_HANDSHAKE_MESSAGE)
    if not message.startswith(CHALLENGE):
        raise ConnectionError(f"Protocol error, expected challenge: message={message!r}")
    message = message[len(CHALLENGE):]
    name, _ = _digest_and_payload(message)
    mac = hmac.new(key, message, name).digest()
    await send_message(writer, mac if len(message) == 20 else b"{" + name.encode() + b"}" + mac)
    if await receive_message(reader, MAX_HANDSHAKE_MESSAGE) != WELCOME:
        raise ConnectionError("digest sent was rejected")


async def deliver_challenge(reader, writer, key):
    """multiprocessing.connection.deliver_challenge, on asyncio streams."""
    message = b"{sha256}" + os.urandom(40)
    await send_message(writer, CHALLENGE + message)
    response = await receive_message(reader, MAX_HANDSHAKE_MESSAGE)
    name, mac = _digest_and_payload(response)
    if not hmac.compare_digest(hmac.new(key, message, name).digest(), mac):
        await send_message(writer, FAILURE)
        raise ConnectionError("digest received was wrong")
    await send_message(writer, WELCOME)


async def connect(address, key):
    """multiprocessing.connection.Client: connect, then prove ourselves and check the server."""
    kind, _, rest = address.partition(":")
    if kind == "unix":
        reader, writer = await asyncio.open_unix_connection(rest)
    elif kind == "tcp":
        host, _, port = rest.rpartition(":")
        reader, writer = await asyncio.open_connection(host.strip("[]"), int(port))
    else:
        raise ValueError(f"unknown address: {address}")
    if key is not None:
        await answer_challenge(reader, writer, key)
        await deliver_challenge(reader, writer, key)
    return reader, writer


async def conversation(address, key, number, messages):
    reader, writer = await connect(address, key)
    try:
        for i in range(messages):
            payload = f"hello {number}.{i}".encode() * (1 + i * 1000)
            await send_message(writer, payload)
            reply = await receive_message(reader)
            if reply != payload:
                raise AssertionError(f"connection {number} message {i}: echo differs")
    finally:
        writer.close()
        await writer.wait_closed()


async def main(address, connections, messages):
    hex_key = os.environ.get("FERRY_AUTHKEY")
    key = bytes.fromhex(hex_key) if hex_key else None
    await asyncio.gather(*(conversation(address, key, n, messages) for n in range(connections)))
    print(f"ok {connections} {messages}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
