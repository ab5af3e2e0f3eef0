"""A Python parent that hands a Java child one end of multiprocessing.Pipe() by pass_fds.

    python inheriting_parent.py KEY_HEX PARENT_KEY_HEX JAVA ARGS...

Makes a, b = Pipe(), starts JAVA ARGS... FD (FD: b's descriptor number) with pass_fds=[FD],
closes b, then authenticates with CPython's own functions (answer_challenge to the child's
deliverChallenge, then deliver_challenge) with PARENT_KEY_HEX, sends a few messages and checks
that they come back. Prints one line per step; exit status 0 when all went as expected.
"""
import subprocess
import sys
from multiprocessing import Pipe
from multiprocessing.connection import AuthenticationError, answer_challenge, deliver_challenge


def main():
    key = bytes(bytearray.fromhex(sys.argv[2]))
    a, b = Pipe()
    fd = b.fileno()
    child = subprocess.Popen(sys.argv[3:] + [str(fd), sys.argv[1]], pass_fds=[fd])
    b.close()
    try:
        answer_challenge(a, key)
        deliver_challenge(a, key)
    except AuthenticationError as e:
        print("parent: %s" % e)
        sys.stdout.flush()
        a.close()
        print("child exit %d" % child.wait(timeout=60))
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
    print("child exit %d" % child.wait(timeout=60))


main()
