"""The Python side of `ferry bench`'s bulk rows: numpy round trips through a Java bulk echo.

    bulk_bench.py HELPERS_DIR SOCKET_PATH MODE COUNT MIB
        MODE bulk: ferry_bulk.send/recv (out of band, copied into a memfd per send);
             shared: the same with the array in a ferry_bulk.SharedBuffer (no copy);
             inband: Connection.send/recv
Prints {"elapsed_ns": ...} for COUNT round trips of a MIB MiB float64 array, after one untimed
round trip whose result is checked against what was sent.
"""
import json
import sys
import time

sys.path.insert(0, sys.argv[1])
import ferry_bulk
import numpy
from multiprocessing.connection import Client

address, mode, count, mib = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
array = numpy.arange(mib * (1 << 20) // 8, dtype=numpy.float64)
if mode == "shared":
    shared = ferry_bulk.SharedBuffer(array.nbytes)
    numpy.frombuffer(shared.buffer, dtype=numpy.float64)[:] = array
    array = numpy.frombuffer(shared.buffer, dtype=numpy.float64)
conn = Client(address)
if mode in ("bulk", "shared"):
    send, recv = (lambda obj: ferry_bulk.send(conn, obj)), (lambda: ferry_bulk.recv(conn))
else:
    send, recv = conn.send, conn.recv
send(array)
back = recv()
if back.shape != array.shape or not (back == array).all():
    sys.exit("the echo changed the array")
del back
start = time.perf_counter_ns()
for _ in range(count):
    send(array)
    back = recv()
    del back
elapsed = time.perf_counter_ns() - start
conn.close()
print(json.dumps({"elapsed_ns": elapsed}), flush=True)
