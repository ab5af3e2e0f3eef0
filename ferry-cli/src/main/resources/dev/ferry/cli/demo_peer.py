"""The Python side of `ferry demo`, standard library only.

Run by the demo as `python -c BOOTSTRAP ADDRESS` with this file on stdin. The authkey comes in
hexadecimal in the environment variable FERRY_DEMO_AUTHKEY_HEX (never on the command line);
without it, no handshake is made.
"""
import os
import sys
from multiprocessing.connection import Client


def main():
    address = sys.argv[1]
    key_hex = os.environ.pop("FERRY_DEMO_AUTHKEY_HEX", None)
    authkey = None if key_hex is None else bytes.fromhex(key_hex)
    messages = [
        ("hello from python %s" % sys.version.split()[0]).encode("utf-8"),
        "text beyond ascii: \u00fcn\u00efc\u00f6d\u00e9 \u2713".encode("utf-8"),
        bytes([0, 1, 2, 0xFE, 0xFF]),
    ]
    with Client(address, authkey=authkey) as conn:
        acks = []
        for message in messages:
            conn.send_bytes(message)
            acks.append(conn.recv_bytes().decode("utf-8"))
        conn.send_bytes(b"bye")
        greeting = conn.recv_bytes().decode("utf-8")
    expected = ["ack %d: %d bytes" % (i + 1, len(m)) for i, m in enumerate(messages)]
    if acks != expected:
        sys.exit("unexpected acks: %r, expected %r" % (acks, expected))
    print("got %d acks as expected, then %r" % (len(acks), greeting))


main()
