# A Python child for Ferry's handle tests, started by ChildProcess (stdlib only). Commands come as
# messages on the connection to the parent:
#   fds        -> one message: "fd=target" for each open descriptor, space separated
#   reply      -> receives a question, then a connection (recv_handle), answers on that connection
#   bounce N   -> receives a connection and sends it back N times, then "before after" fd counts
#   give       -> sends one end of a new Pipe (send_handle), then echoes one message received on the
#                 other end back to the parent
#   wait       -> blocks until the parent goes away
import os
import sys
from multiprocessing import Pipe
try:
    from multiprocessing.connection import Connection
except ImportError:  # Python 2.7: the C type
    from _multiprocessing import Connection
from multiprocessing.reduction import recv_handle, send_handle

import ferry_child


def fd_count():
    return len(os.listdir("/proc/self/fd"))


def main():
    conn = ferry_child.connect_to_parent()
    while True:
        try:
            command = conn.recv_bytes().decode("ascii").split()
        except EOFError:
            return
        if command[0] == "fds":
            entries = []
            for fd in sorted(os.listdir("/proc/self/fd"), key=int):
                try:
                    entries.append("%s=%s" % (fd, os.readlink("/proc/self/fd/" + fd)))
                except OSError:
                    pass  # the directory listing's own descriptor, gone already
            conn.send_bytes(" ".join(entries).encode("ascii"))
        elif command[0] == "reply":
            question = conn.recv_bytes()
            reply_to = Connection(recv_handle(conn))
            reply_to.send_bytes(b"python says 42 to: " + question)
            reply_to.close()
        elif command[0] == "bounce":
            before = fd_count()
            for _ in range(int(command[1])):
                fd = recv_handle(conn)
                send_handle(conn, fd, os.getppid())
                os.close(fd)
            conn.send_bytes(("%d %d" % (before, fd_count())).encode("ascii"))
        elif command[0] == "give":
            mine, theirs = Pipe()
            send_handle(conn, theirs.fileno(), os.getppid())
            theirs.close()
            conn.send_bytes(mine.recv_bytes())
            mine.close()
        elif command[0] == "wait":
            conn.recv_bytes()


if __name__ == "__main__":
    main()
