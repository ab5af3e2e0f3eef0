"""The Python side of `ferry demo`, standard library only (numpy if it is there).

Run by the demo as `python -c BOOTSTRAP ADDRESS` with this file on stdin. The authkey comes in
hexadecimal in the environment variable FERRY_DEMO_AUTHKEY_HEX (never on the command line);
without it, no handshake is made.

First bytes (send_bytes/recv_bytes), then objects (send/recv, which pickle): Python sends its
version, so that Java picks a pickle protocol it reads, receives Java's object, checks it, sends
one of its own, a numpy array when numpy imports, and "bye".
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
    numpy = import_numpy()  # before connecting: it takes a while
    with Client(address, authkey=authkey) as conn:
        acks = []
        for message in messages:
            conn.send_bytes(message)
            acks.append(conn.recv_bytes().decode("utf-8"))
        conn.send_bytes(b"bye")
        greeting = conn.recv_bytes().decode("utf-8")
        conn.send(tuple(sys.version_info[:2]))
        from_java = conn.recv()
        conn.send({"answer": 42, "pair": ("pi", 3.14159), "nothing": None,
                   "primes": {2, 3, 5, 7}})

        if numpy is not None:
            conn.send(numpy.arange(6, dtype="float64").reshape(2, 3))
        conn.send("bye")
    expected = ["ack %d: %d bytes" % (i + 1, len(m)) for i, m in enumerate(messages)]
    if acks != expected:
        sys.exit("unexpected acks: %r, expected %r" % (acks, expected))
    print("got %d acks as expected, then %r" % (len(acks), greeting))
    expected = {"text": "hello from java", "nested": [1, 2, [3, 4]],
                "bytes": b"\x00\x01\xfe\xff", "big": 2 ** 100}
    if from_java != expected:
        sys.exit("unexpected object: %r, expected %r" % (from_java, expected))
    print("received %r" % (from_java,))
    if numpy is None:
        print("numpy is not installed here, so no array")
    else:
        print("sent a numpy %s array too" % numpy.__version__)


def import_numpy():
    try:
        import numpy
    except Exception:  # ImportError, or a broken installation
        return None
    return numpy


main()
