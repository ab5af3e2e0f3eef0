# A Python 3.8+ client of `ferry echo --codec pickle` that passes connections inside messages,
# stdlib only, with no code per connection (seed 002's reply_to, the issue 14 message):
#
#   python conn_echo.py SOCKET KEYHEX N
#
# sets multiprocessing.current_process().authkey to the key, sends N messages
# {'reply_to': a, 'n': [1, {'deep': a}], 'i': i} where a is one end of a new Pipe(), and checks
# that each reply holds one working connection to the other end of that pipe, at both places.
# The first message warms up (Python's own resource sharer opens its socket then); from there
# on, the descriptors this process holds must end where they started. Prints
# "ok N fds BEFORE AFTER" or fails with a message.
import multiprocessing
import os
import sys
import time
from multiprocessing.connection import Client


def descriptors():
    return len(os.listdir("/proc/self/fd"))


def settled(wanted):
    # Python's sharer thread closes its duplicate just after handing it over: let it finish.
    deadline = time.monotonic() + 10
    while descriptors() != wanted and time.monotonic() < deadline:
        time.sleep(0.01)
    return descriptors()


def round_trip(conn, i):
    mine, theirs = multiprocessing.Pipe()
    conn.send({"reply_to": theirs, "n": [1, {"deep": theirs}], "i": i})
    theirs.close()  # pickling took a duplicate, as multiprocessing does
    reply = conn.recv()
    back = reply["reply_to"]
    if back is not reply["n"][1]["deep"] or reply["i"] != i:
        sys.exit("reply %d is not the message sent: %r" % (i, reply))
    if not (back.readable and back.writable):
        sys.exit("reply %d: access changed: %r %r" % (i, back.readable, back.writable))
    back.send_bytes(b"through ferry %d" % i)
    got = mine.recv_bytes()
    if got != b"through ferry %d" % i:
        sys.exit("message %d: other end got %r" % (i, got))
    mine.send_bytes(b"and back %d" % i)
    got = back.recv_bytes()
    if got != b"and back %d" % i:
        sys.exit("message %d: returned end got %r" % (i, got))
    back.close()
    mine.close()


def main():
    socket, key, count = sys.argv[1], bytes.fromhex(sys.argv[2]), int(sys.argv[3])
    multiprocessing.current_process().authkey = key
    conn = Client(socket, authkey=key)
    round_trip(conn, 0)
    before = settled(descriptors())
    for i in range(1, count):
        round_trip(conn, i)
    after = settled(before)
    conn.close()
    print("ok %d fds %d %d" % (count, before, after))


main()
