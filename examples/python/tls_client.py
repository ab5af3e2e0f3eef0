"""Talk to a Ferry TLS listener from CPython, with the standard library only.

multiprocessing.connection has no TLS, and its Connection cannot wrap an ssl socket. SSLConnection
below does what Connection does (send_bytes, recv_bytes: a 4-byte big-endian length and the
payload; over 2 GiB the length -1, then 8 bytes) over an ssl socket, so that the module's own
answer_challenge and deliver_challenge run the HMAC handshake inside TLS, as Ferry does.

    FERRY_AUTHKEY=<hex> python tls_client.py tcp:127.0.0.1:6000 server-cert.pem \\
        [client-cert.pem client-key.pem] [server name]

sends three messages, checks the echoes (a Ferry listener with TLS running `ferry echo`, or any
listener that sends every message back) and prints "ok". The certificate and key of the client
are needed when the listener requires client certificates (mutual TLS). FERRY_AUTHKEY unset
means no HMAC handshake.
"""

import binascii
import os
import socket
import ssl
import struct
import sys
from multiprocessing.connection import answer_challenge, deliver_challenge


class SSLConnection(object):
    """send_bytes and recv_bytes of multiprocessing.connection.Connection over an ssl socket."""

    def __init__(self, sock):
        self._sock = sock

    def send_bytes(self, buf):
        buf = bytes(buf)
        n = len(buf)
        if n > 0x7FFFFFFF:
            header = struct.pack("!i", -1) + struct.pack("!Q", n)
        else:
            header = struct.pack("!i", n)
        if n < 16384:
            self._sock.sendall(header + buf)  # one TLS record for small messages
        else:
            self._sock.sendall(header)
            self._sock.sendall(buf)

    def _recv_exactly(self, n):
        chunks = []
        while n:
            chunk = self._sock.recv(min(n, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def recv_bytes(self, maxlength=None):
        size, = struct.unpack("!i", self._recv_exactly(4))
        if size == -1:
            size, = struct.unpack("!Q", self._recv_exactly(8))
        if maxlength is not None and size > maxlength:
            raise OSError("bad message length")
        return self._recv_exactly(size)

    def close(self):
        self._sock.close()


def main(argv):
    address, cafile = argv[1], argv[2]
    host, port = address[len("tcp:"):].rsplit(":", 1)
    host = host.strip("[]")
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    if len(argv) > 4:
        ctx.load_cert_chain(argv[3], argv[4])  # mutual TLS
    server_name = argv[5] if len(argv) > 5 else host
    conn = SSLConnection(ctx.wrap_socket(socket.create_connection((host, int(port))),
                                         server_hostname=server_name))
    try:
        hexkey = os.environ.get("FERRY_AUTHKEY")
        if hexkey is not None:
            authkey = binascii.unhexlify(hexkey)
            answer_challenge(conn, authkey)  # the order of multiprocessing.connection.Client
            deliver_challenge(conn, authkey)
        for message in (b"hello", b"", os.urandom(100000)):
            conn.send_bytes(message)
            if conn.recv_bytes() != message:
                raise SystemExit("echo differs")
    finally:
        conn.close()
    print("ok")


if __name__ == "__main__":
    main(sys.argv)
