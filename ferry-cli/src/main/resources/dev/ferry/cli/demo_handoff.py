# Python side of `ferry demo handoff` (stdlib only): receives a link to the Java child and a
# reply_to end from the parent, both with recv_handle, and passes the reply_to end on to the Java
# child over the link with send_handle: the connection travels Java -> Python -> Java.
import os
from multiprocessing.connection import Connection
from multiprocessing.reduction import recv_handle, send_handle

import ferry_child

parent = ferry_child.connect_to_parent()
to_java = Connection(recv_handle(parent))
reply_to = recv_handle(parent)
send_handle(to_java, reply_to, 0)  # the pid only matters on Windows
os.close(reply_to)
to_java.close()
parent.send_bytes(b"passed reply_to on to the java child, untouched")
try:
    parent.recv_bytes()
except EOFError:
    pass
