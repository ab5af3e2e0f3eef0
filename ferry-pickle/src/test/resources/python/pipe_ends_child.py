# A Python child for CarriedConnectionsTest (stdlib only): both ends of one-way pipes
# (Pipe(duplex=False), whose ends are os.pipe() descriptors, not sockets) pickled to Java, and
# data flowing through each, in its one direction, until end of file; then a Ferry one-way
# pipe's read end the other way.
import multiprocessing
import os

import ferry_child

conn = ferry_child.connect_to_parent()
javas_reader, my_writer = multiprocessing.Pipe(duplex=False)
my_reader, javas_writer = multiprocessing.Pipe(duplex=False)
conn.send({"reader": javas_reader, "writers": [javas_writer]})
javas_reader.close()
javas_writer.close()

my_writer.send_bytes(b"python to java")
conn.send_bytes(b"python got: " + my_reader.recv_bytes())
try:
    my_reader.recv_bytes()
except EOFError:
    conn.send_bytes(b"end of file")
my_writer.close()

# And back: the read end of a Ferry one-way pipe, pickled by Java.
# CPython's Connection expects a blocking descriptor: on a non-blocking one, a recv_bytes that
# comes before the bytes dies with BlockingIOError (EAGAIN). Java's copy of the socket shares the
# open file description, and with it O_NONBLOCK.
back = conn.recv()["reader"]
blocking = os.get_blocking(back.fileno())
conn.send_bytes(b"%r %r blocking=%r %b" % (back.readable, back.writable, blocking,
                                            back.recv_bytes()))
back.close()
try:
    conn.recv_bytes()  # until the parent closes
except EOFError:
    pass
