"""The CPython side of `ferry bench`: multiprocessing.connection measured by itself.

Each mode prints one JSON line on stdout:
  pingpong COUNT SIZE     Pipe to a forked child that echoes; {"median_ns", "p99_ns"}
  oneway COUNT SIZE       send_bytes to a forked child that acks at the end; {"elapsed_ns"}
  dict COUNT              send/recv of a small dict, acked at the end; {"elapsed_ns"}
  pickle COUNT            pickle.loads(pickle.dumps(d, 4)) in a loop; {"elapsed_ns"}
  handshake COUNT         Client connect + auth to a Listener in a thread; {"elapsed_ns"}
  wait COUNT N            connection.wait over N pipes, one ready; {"elapsed_ns"}
  client ADDRESS COUNT SIZE  echo round trips against a server; {"elapsed_ns"}
  server ADDRESS          echo server for one client; prints {"ready": true} once listening
"""
import json
import os
import pickle
import sys
import threading
import time
import multiprocessing
from multiprocessing import connection

SMALL_DICT = {"id": 42, "name": "ferry", "ok": True, "score": 0.5, "tags": ["a", "b"]}
ctx = multiprocessing.get_context("fork")


def emit(**fields):
    print(json.dumps(fields), flush=True)


def echo_child(conn, count):
    buf = bytearray(1 << 20)
    for _ in range(count):
        n = conn.recv_bytes_into(buf)
        conn.send_bytes(buf, 0, n)


def sink_child(conn, count, size):
    buf = bytearray(max(size, 1))
    for _ in range(count):
        conn.recv_bytes_into(buf)
    conn.send_bytes(b"k")


def dict_child(conn, count):
    for _ in range(count):
        conn.recv()
    conn.send_bytes(b"k")


def pingpong(count, size):
    a, b = ctx.Pipe()
    p = ctx.Process(target=echo_child, args=(b, count))
    p.start()
    msg = b"x" * size
    times = []
    for _ in range(count):
        t0 = time.perf_counter_ns()
        a.send_bytes(msg)
        a.recv_bytes()
        times.append(time.perf_counter_ns() - t0)
    p.join()
    times.sort()
    emit(median_ns=times[count // 2], p99_ns=times[int(count * 0.99)])


def oneway(count, size):
    a, b = ctx.Pipe()
    p = ctx.Process(target=sink_child, args=(b, count, size))
    p.start()
    msg = b"x" * size
    t0 = time.perf_counter_ns()
    for _ in range(count):
        a.send_bytes(msg)
    a.recv_bytes()
    emit(elapsed_ns=time.perf_counter_ns() - t0)
    p.join()


def dicts(count):
    a, b = ctx.Pipe()
    p = ctx.Process(target=dict_child, args=(b, count))
    p.start()
    t0 = time.perf_counter_ns()
    for _ in range(count):
        a.send(SMALL_DICT)
    a.recv_bytes()
    emit(elapsed_ns=time.perf_counter_ns() - t0)
    p.join()


def pickles(count):
    t0 = time.perf_counter_ns()
    for _ in range(count):
        pickle.loads(pickle.dumps(SMALL_DICT, 4))
    emit(elapsed_ns=time.perf_counter_ns() - t0)


def handshake(count):
    key = b"ferry-bench-key"
    address = "\0ferry-bench-py-%d" % os.getpid()
    listener = connection.Listener(address, family="AF_UNIX", authkey=key)

    def serve():
        for _ in range(count):
            listener.accept().close()

    server = threading.Thread(target=serve)
    server.start()
    t0 = time.perf_counter_ns()
    for _ in range(count):
        connection.Client(address, family="AF_UNIX", authkey=key).close()
    server.join()
    emit(elapsed_ns=time.perf_counter_ns() - t0)
    listener.close()


def waits(count, n):
    pipes = [ctx.Pipe() for _ in range(n)]
    pipes[-1][1].send_bytes(b"x")
    readers = [r for r, _ in pipes]
    t0 = time.perf_counter_ns()
    for _ in range(count):
        ready = connection.wait(readers)
        assert len(ready) == 1
    emit(elapsed_ns=time.perf_counter_ns() - t0)


def client(address, count, size):
    conn = connection.Client(address, family="AF_UNIX")
    msg = b"x" * size
    t0 = time.perf_counter_ns()
    for _ in range(count):
        conn.send_bytes(msg)
        conn.recv_bytes()
    emit(elapsed_ns=time.perf_counter_ns() - t0)
    conn.close()


def server(address):
    listener = connection.Listener(address, family="AF_UNIX")
    emit(ready=True)
    conn = listener.accept()
    buf = bytearray(1 << 20)
    try:
        while True:
            n = conn.recv_bytes_into(buf)
            conn.send_bytes(buf, 0, n)
    except EOFError:
        pass
    conn.close()
    listener.close()


def main(argv):
    mode, args = argv[0], argv[1:]
    if mode == "pingpong":
        pingpong(int(args[0]), int(args[1]))
    elif mode == "oneway":
        oneway(int(args[0]), int(args[1]))
    elif mode == "dict":
        dicts(int(args[0]))
    elif mode == "pickle":
        pickles(int(args[0]))
    elif mode == "handshake":
        handshake(int(args[0]))
    elif mode == "wait":
        waits(int(args[0]), int(args[1]))
    elif mode == "client":
        client(args[0], int(args[1]), int(args[2]))
    elif mode == "server":
        server(args[0])
    else:
        sys.exit("unknown mode: " + mode)


if __name__ == "__main__":
    main(sys.argv[1:])
