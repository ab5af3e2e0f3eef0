# A Python child for ResourceSharerTest (stdlib only): connections inside pickled messages.
import multiprocessing

import ferry_child

conn = ferry_child.connect_to_parent()

# Java to Python: a message holding a connection Java shared.
message = conn.recv()
reply_to = message["reply_to"]
reply_to.send_bytes(b"python answers on a pickled connection: " + message["question"])
reply_to.close()

# Python to Java: one end of a new pipe, pickled by multiprocessing's own reducer.
mine, theirs = multiprocessing.Pipe()
conn.send({"conn": theirs, "readable": theirs.readable})
theirs.close()
conn.send_bytes(mine.recv_bytes())
mine.close()
try:
    conn.recv_bytes()  # until the parent closes
except EOFError:
    pass
