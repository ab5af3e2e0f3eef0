# The Python side of BulkTest: talks bulk messages with the Java parent through ferry_bulk.
#     bulk_child.py MODE     (ferry_bulk.py lies beside this script)
import gc
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferry_bulk
import ferry_child

try:
    import numpy
except ImportError:
    numpy = None


def describe(value):
    """What arrived, for Java to check: type, whether read-only, what it views (mmap or a copy)."""
    if numpy is not None and isinstance(value, numpy.ndarray):
        return "ndarray %s %s writeable=%s" % (value.dtype, value.shape, value.flags.writeable)
    if isinstance(value, memoryview):
        return "memoryview %d readonly=%s %s" % (value.nbytes, value.readonly,
                                                 type(value.obj).__name__)
    return type(value).__name__


def counts():
    fds = len(os.listdir("/proc/self/fd"))
    with open("/proc/self/maps") as maps:
        mapped = sum(1 for line in maps if "memfd:" in line or "/dev/shm/" in line)
    return fds, mapped


def main():
    mode = sys.argv[1]
    conn = ferry_child.connect_to_parent()
    if mode == "echo":
        # Java's message, described and sent back; then Python's own message.
        got = ferry_bulk.recv(conn)
        ferry_bulk.send(conn, {"echo": got,
                               "types": dict((k, describe(v)) for k, v in got.items())})
        own = {"bytes": b"p" * (2 << 20), "bytearray": bytearray(b"q" * (3 << 20)),
               "small": b"s" * 100}
        if ferry_bulk.SUPPORTED:
            own["memoryview"] = memoryview(b"r" * (1 << 20))
        if numpy is not None:
            own["array"] = numpy.arange(500000, dtype=numpy.float64).reshape(1000, 500)
            own["fortran"] = numpy.asfortranarray(
                numpy.arange(262144, dtype=numpy.int64).reshape(512, 512))
        ferry_bulk.send(conn, own)
        back = ferry_bulk.recv(conn)
        conn.send_bytes(repr(sorted((k, describe(v)) for k, v in back.items())).encode())
    elif mode == "count":
        n = int(sys.argv[2])
        payload = {"bytes": b"c" * (2 << 20)}
        if numpy is not None:
            payload["array"] = numpy.ones(300000)
        ferry_bulk.send(conn, payload)
        ferry_bulk.recv(conn)
        gc.collect()
        before = counts()
        for i in range(n):
            ferry_bulk.send(conn, payload)
            got = ferry_bulk.recv(conn)
            assert bytes(got["bytes"][:1]) == b"c"
        del got
        gc.collect()
        conn.send_bytes(("%d %d %d %d" % (before + counts())).encode())
    elif mode == "limit":
        # 61 buffers are refused before anything is sent; 60 go, and come back to be held.
        many = [bytes(bytearray([i])) * 1024 for i in range(61)]
        try:
            ferry_bulk.send(conn, many, threshold=1024)
            refused = "sent"
        except ferry_bulk.BulkError as e:
            refused = str(e)
        ferry_bulk.send(conn, many[:60], threshold=1024)
        before = counts()[0]
        back = ferry_bulk.recv(conn)
        held = counts()[0] - before
        conn.send_bytes(("%s\n%d %d\n%d" % (refused, len(back), back[59][0], held)).encode())
    elif mode == "views":
        # memoryviews below the threshold, and a strided one above it
        ferry_bulk.send(conn, {"small": memoryview(b"tiny"),
                               "strided": memoryview(b"ab" * (1 << 20))[::2]})
        back = ferry_bulk.recv(conn)
        conn.send_bytes(repr(sorted((k, describe(v)) for k, v in back.items())).encode())
    elif mode == "maxlength":
        results = []
        for limit in (1 << 20, 1 << 20, 10):
            try:
                got = ferry_bulk.recv(conn, maxlength=limit)
                results.append("received %r" % (got,))
            except ferry_bulk.BulkError as e:
                results.append("BulkError: %s" % e)
            except OSError as e:
                results.append("OSError: %s" % e)
        conn.send_bytes("\n".join(results).encode())
    elif mode == "hostile":
        # Java sends lying messages; each must fail cleanly and leave the stream in step.
        results = []
        before = counts()[0]
        for i in range(int(sys.argv[2])):
            try:
                ferry_bulk.recv(conn)
                results.append("ok")
            except ferry_bulk.BulkError as e:
                results.append("BulkError: %s" % e)
        after = counts()[0]
        # The descriptors that came with the lies are closed: as many open as before.
        results.append("fds same" if after == before else "fds %d -> %d" % (before, after))
        conn.send_bytes("\n".join(results).encode())
    conn.close()


main()
