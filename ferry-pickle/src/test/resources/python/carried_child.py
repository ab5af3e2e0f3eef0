# A Python child for CarriedConnectionsTest (stdlib only): connections anywhere in pickled
# messages, with no call per connection on either side.
import multiprocessing
import types

import ferry_child

conn = ferry_child.connect_to_parent()

# Java to Python: the same connection in a dict and deep in a list, one in a tuple, one in an
# object's state. Each answers on what it got.
message = conn.recv()
reply_to = message["reply_to"]
assert reply_to is message["n"][1]["deep"], "one connection, one object"
reply_to.send_bytes(b"dict and list: %r %r" % (reply_to.readable, reply_to.writable))
writer = message["tuple"][0]
writer.send_bytes(b"tuple: %r %r" % (writer.readable, writer.writable))
held = message["object"].held
held.send_bytes(b"object state")
for c in (reply_to, writer, held):
    c.close()

# Python to Java: its own pipes, in a dict, a list, a tuple, a set and an object's state.
duplex_mine, duplex_theirs = multiprocessing.Pipe()
# A one-way pipe: its ends are os.pipe() descriptors, not sockets.
reader, writer = multiprocessing.Pipe(duplex=False)
listed_mine, listed_theirs = multiprocessing.Pipe()
conn.send({
    "reply_to": duplex_theirs,
    "n": [1, {"deep": duplex_theirs}],
    "tuple": (reader,),
    "set": {listed_theirs},
    "object": types.SimpleNamespace(held=duplex_theirs),
})
for c in (duplex_theirs, reader, listed_theirs):
    c.close()
writer.send_bytes(b"to java's read-only end")
writer.close()
got = [duplex_mine.recv_bytes(), listed_mine.recv_bytes()]
conn.send_bytes(b" | ".join(got))
try:
    conn.recv_bytes()  # until the parent closes
except EOFError:
    pass
