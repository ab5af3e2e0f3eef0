# A Python child for CarriedConnectionsTest (stdlib only): both ends of one-way pipes
# (Pipe(duplex=False), whose ends are os.pipe() descriptors, not sockets) pickled to Java, and
# data flowing through each, in its one direction, until end of file; then a Ferry one-way
# pipe's read end the other way.
import multiprocessing

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
back = conn.recv()["reader"]
conn.send_bytes(b"%r %r %b" % (back.readable, back.writable, back.recv_bytes()))
back.close()
try:
    conn.recv_bytes()  # until the parent closes
except EOFError:
    pass
