"""A ferry_shm peer for Java <-> CPython lane tests and benchmarks.

    python shm_peer.py listen ADDRESS KEY|- SPIN_US [COUNT]
        binds a ferry_shm Listener, prints "ready ADDRESS", then for each of COUNT (default 1)
        connections prints "lane True|False" and echoes every message until EOF ("eof").
    python shm_peer.py connect ADDRESS KEY|- SPIN_US [SIZE]... [--trips N]
        connects, prints "lane True|False", echoes one message of each SIZE and prints
        "echo SIZE ok", then times N (default 0) 64-byte round trips and prints
        "rt median MICROSECONDS".

ADDRESS is a path or "@name" for an abstract name; KEY is an ASCII authkey or "-" for none.
ferry_shm.py is imported from this script's folder (or FERRY_SHM_DIR).
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.environ.get("FERRY_SHM_DIR", os.path.dirname(os.path.abspath(__file__))))
import ferry_shm  # noqa: E402


def main(argv):
    trips = 0
    if "--trips" in argv:
        i = argv.index("--trips")
        trips = int(argv[i + 1])
        del argv[i:i + 2]
    mode, address, key, spin = argv[0], argv[1], argv[2], int(argv[3])
    if address.startswith("@"):
        address = "\0" + address[1:]
    authkey = None if key == "-" else key.encode("ascii")
    if mode == "listen":
        count = int(argv[4]) if len(argv) > 4 else 1
        with ferry_shm.Listener(address, authkey=authkey, spin_us=spin) as listener:
            print("ready", argv[1], flush=True)
            for _ in range(count):
                with listener.accept() as conn:
                    print("lane", conn.lane, flush=True)
                    try:
                        while True:
                            conn.send_bytes(conn.recv_bytes())
                    except EOFError:
                        print("eof", flush=True)
        return 0
    with ferry_shm.Client(address, authkey=authkey, spin_us=spin) as conn:
        print("lane", conn.lane, flush=True)
        for size in argv[4:]:
            data = os.urandom(int(size))
            conn.send_bytes(data)
            if conn.recv_bytes() != data:
                print("echo", size, "differs", flush=True)
                return 1
            print("echo", size, "ok", flush=True)
        if trips:
            msg = b"x" * 64
            times = []
            for _ in range(trips):
                t = time.perf_counter_ns()
                conn.send_bytes(msg)
                conn.recv_bytes()
                times.append(time.perf_counter_ns() - t)
            print("rt median %.2f" % (statistics.median(times) / 1000), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
