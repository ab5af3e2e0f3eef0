# Python side of `ferry demo handoff` (stdlib only): receives a connection end with recv_handle and
# answers the question on it, not on the connection to the parent.
import sys
from multiprocessing.connection import Connection
from multiprocessing.reduction import recv_handle

import ferry_child

parent = ferry_child.connect_to_parent()
question = parent.recv_bytes()
reply_to = Connection(recv_handle(parent))
reply_to.send_bytes(b"python " + sys.version.split()[0].encode() + b" says 42 to: " + question)
reply_to.close()
parent.send_bytes(b"answered on the received connection")
try:
    parent.recv_bytes()
except EOFError:
    pass
