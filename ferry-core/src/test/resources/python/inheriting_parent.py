"""A Python parent that hands a Java child one end of multiprocessing.Pipe() by pass_fds.

    python inheriting_parent.py KEY_HEX PARENT_KEY_HEX JAVA ARGS...
    python inheriting_parent.py oneway - JAVA ARGS...

The second form passes two one-way pipes (Pipe(False): os.pipe() ends), the read end of one
and the write end of the other, as JAVA ARGS... READ_FD WRITE_FD oneway; the child copies each
message from one to the other until end of stream. Messages include one of 1 MiB, more than
a pipe holds.

Makes a, b = Pipe(), starts JAVA ARGS... FD (FD: b's descriptor number) with pass_fds=[FD],
closes b, then authenticates with CPython's own functions (answer_challenge to the child's
deliverChallenge, then deliver_challenge) with PARENT_KEY_HEX, sends a few messages and checks
that they come back. Prints one line per step; exit status 0 when all went as expected.
"""
import os
import subprocess
import sys
from multiprocessing import Pipe
from multiprocessing.connection import AuthenticationError, answer_challenge, deliver_challenge


def start(command, fds, parent_ends):
    """Popen with fds left open in the child: pass_fds from 3.2. Python 2 has no pass_fds, but
    its descriptors are inherited unless close_fds closes them all; the child then must not keep
    the parent's own ends, or it would never see end of file."""
    if sys.version_info >= (3, 2):
        return subprocess.Popen(command, pass_fds=fds)
    ends = [c.fileno() for c in parent_ends]
    return subprocess.Popen(command, close_fds=False,
                            preexec_fn=lambda: [os.close(fd) for fd in ends])


def oneway():
    child_reads, parent_writes = Pipe(False)
    parent_reads, child_writes = Pipe(False)
    fds = [child_reads.fileno(), child_writes.fileno()]
    child = start(sys.argv[3:] + [str(fd) for fd in fds] + ["oneway"], fds,
                  [parent_writes, parent_reads])
    child_reads.close()
    child_writes.close()
    values = [b"ping", b"", b"y" * (1 << 20), b"last"]
    for v in values:
        parent_writes.send_bytes(v)
    for v in values:
        if parent_reads.recv_bytes() != v:
            print("parent: wrong copy of %d bytes" % len(v))
            sys.exit(2)
    parent_writes.close()
    try:
        parent_reads.recv_bytes()
        print("parent: no end of file")
    except EOFError:
        print("parent: copied %d messages, then end of file" % len(values))
    print("child exit %d" % wait(child))


def wait(child):
    """The child's exit status; the test's own timeout bounds it (2.7's wait has none)."""
    return child.wait()


def main():
    if sys.argv[1] == "oneway":
        return oneway()
    key = bytes(bytearray.fromhex(sys.argv[2]))
    a, b = Pipe()
    fd = b.fileno()
    child = start(sys.argv[3:] + [str(fd), sys.argv[1]], [fd], [a])
    b.close()
    try:
        answer_challenge(a, key)
        deliver_challenge(a, key)
    except AuthenticationError as e:
        # One write: the child prints its own line to the same stdout at this moment, and 2.7's
        # print writes the text and the newline separately, so the lines could interleave.
        sys.stdout.write("parent: %s\n" % e)
        sys.stdout.flush()
        a.close()
        print("child exit %d" % wait(child))
        return
    print("parent: authenticated")
    values = [b"ping", b"", b"x" * 100000]
    for v in values:
        a.send_bytes(v)
        if a.recv_bytes() != v:
            print("parent: wrong echo of %d bytes" % len(v))
            sys.exit(2)
    a.send({"reply": [1, 2.5, "three"]})
    print("parent: echoed %r" % (a.recv(),))
    print("parent: child says %s" % a.recv_bytes().decode())
    a.close()
    print("child exit %d" % wait(child))


main()
