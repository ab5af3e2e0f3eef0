# Connects a Python child process to the Ferry parent that started it. Stdlib only; 2.7 and 3.x.
#
#     import ferry_child
#     conn = ferry_child.connect_to_parent()   # a multiprocessing.connection.Connection
#     fd = ferry_child.receive_fd(conn)        # a descriptor the parent sent, e.g. a raw pipe end
#
# The parent writes three lines to the child's standard input and then closes it:
#
#     ferry-child 1
#     unix:@<one-time abstract name>
#     <one-time authkey, hex>
#
# so that neither the address nor the key ever appears on a command line. The key also becomes
# this process's multiprocessing authkey, so that connections pickled between parent and child
# (multiprocessing's resource sharer) authenticate with a key both sides know.
import binascii
import multiprocessing
import sys
from multiprocessing.connection import Client

_MAGIC = "ferry-child 1"


def _parse(address):
    if address.startswith("unix:@"):
        return "\0" + address[len("unix:@"):]
    if address.startswith("unix:"):
        return address[len("unix:"):]
    raise ValueError("unsupported parent address: %r" % (address,))


def _line(stream):
    text = stream.readline().decode("ascii").strip()
    # Python 2: multiprocessing wants a native str address, not unicode.
    return text if isinstance(text, str) else text.encode("ascii")


def connect_to_parent():
    """Reads the parent's address and key from stdin and returns the connection to it."""
    stream = getattr(sys.stdin, "buffer", sys.stdin)
    lines = [_line(stream) for _ in range(3)]
    if lines[0] != _MAGIC:
        raise RuntimeError("not started by a ferry parent: stdin began with %r" % (lines[0],))
    key = binascii.unhexlify(lines[2].encode("ascii"))
    multiprocessing.current_process().authkey = key
    return Client(_parse(lines[1]), authkey=key)


def receive_fd(conn):
    """Receives one descriptor the parent sent with Handles.sendDescriptor, sendConnection or
    sendRawEnd, as a plain number this process owns: give it to os.fdopen, asyncio's
    connect_read_pipe / connect_write_pipe, or aiopipe's AioPipeReader / AioPipeWriter."""
    from multiprocessing.reduction import recv_handle
    return recv_handle(conn)
