"""The CPython end of FerryShmInteropTest: one ferry_shm connection driven by a Java peer.

    python shm_interop_peer.py listen|connect|hold ADDRESS KEY|- [RING_SIZE]

Prints "lane True|False", then echoes byte messages until b"pickles"; sends a pickled object,
receives it back (the Java peer echoes bytes) and prints "pickle True"; checks that
multiprocessing.connection.wait sees nothing on an idle lane, sends b"go" and waits for the
Java peer's answer ("wait True fed"); then prints "holding" and receives until EOFError
("eof"). RING_SIZE is the connecting end's (its offer's) ring size. "hold" connects, prints "lane", has one message echoed, prints "holding" and
receives until EOFError ("eof"): for a Java peer that only echoes and is then killed. Every line is flushed at once: the Java side times the lines it reads.
"""

import os
import sys
from multiprocessing.connection import wait

sys.path.insert(0, os.environ.get("FERRY_SHM_DIR", os.path.dirname(os.path.abspath(__file__))))
import ferry_shm  # noqa: E402


def say(*words):
    print(*words, flush=True)


def drive(conn):
    say("lane", conn.lane)
    while True:
        m = conn.recv_bytes()
        if m == b"pickles":
            break
        conn.send_bytes(m)
    obj = {"text": "h\u00e9llo", "numbers": [1, 2.5, None, 2 ** 70], "blob": b"\x00\xff" * 70000}
    conn.send(obj)
    say("pickle", conn.recv() == obj)
    idle = wait([conn], timeout=0.05)
    conn.send_bytes(b"go")
    ready = wait([conn], timeout=10)
    say("wait", idle == [] and ready == [conn], conn.recv_bytes().decode())
    say("holding")
    try:
        while True:
            conn.recv_bytes()
    except EOFError:
        say("eof")


def main(mode, address, key, ring_size="1048576"):
    authkey = None if key == "-" else key.encode("ascii")
    if mode == "listen":
        with ferry_shm.Listener(address, authkey=authkey) as listener:
            say("ready")
            with listener.accept() as conn:
                drive(conn)
    elif mode == "hold":
        with ferry_shm.Client(address, authkey=authkey) as conn:
            say("lane", conn.lane)
            conn.send_bytes(b"x")
            conn.recv_bytes()
            say("holding")
            try:
                conn.recv_bytes()
            except EOFError:
                say("eof")
    else:
        with ferry_shm.Client(address, authkey=authkey, ring_size=int(ring_size)) as conn:
            drive(conn)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
