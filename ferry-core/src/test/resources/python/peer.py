# A CPython peer for Ferry's interop tests: stdlib only, runs on 2.7 and 3.6+.
#
#   python peer.py server ADDRESS   listen, print "ready ADDRESS", echo every message of one client
#   python peer.py client ADDRESS   connect, send each hex message of FERRY_MESSAGES (comma
#                                   separated), print "reply HEX" per reply, then close
#
# ADDRESS is Ferry's text form (unix:/path, unix:@name, tcp:host:port). The key comes from the
# environment, never the command line: FERRY_KEY unset means no key, "" means the empty key.
# Failures print one line "error TYPE: MESSAGE" and exit 1.
import binascii
import os
import sys
from multiprocessing.connection import Client, Listener


def parse(address):
    if address.startswith("unix:@"):
        return "\0" + address[len("unix:@"):]
    if address.startswith("unix:"):
        return address[len("unix:"):]
    if address.startswith("tcp:"):
        host, port = address[len("tcp:"):].rsplit(":", 1)
        return (host.strip("[]"), int(port))
    raise ValueError("bad address " + address)


def key():
    hexkey = os.environ.get("FERRY_KEY")
    if hexkey is None:
        return None
    return binascii.unhexlify(hexkey.encode("ascii"))


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def echo(conn):
    """Sends every message back until the peer closes."""
    while True:
        try:
            message = conn.recv_bytes()
        except EOFError:
            break
        conn.send_bytes(message)


def exchange(conn):
    """Sends each hex message of FERRY_MESSAGES ("empty" for none) and prints "reply HEX" per reply."""
    for m in [m for m in os.environ.get("FERRY_MESSAGES", "").split(",") if m != "-"]:
        conn.send_bytes(b"" if m == "empty" else binascii.unhexlify(m.encode("ascii")))
        say("reply " + binascii.hexlify(conn.recv_bytes()).decode("ascii"))


def run(server, client):
    """Runs server(address) or client(address) as argv says; a failure prints one line, exit 1."""
    mode, address = sys.argv[1], sys.argv[2]
    try:
        if mode == "server":
            server(address)
        else:
            client(address)
    except Exception as e:  # one line for the test to read
        say("error %s: %s" % (type(e).__name__, e))
        sys.exit(1)


def server(address):
    listener = Listener(parse(address), authkey=key())
    say("ready")
    conn = listener.accept()
    try:
        echo(conn)
    finally:
        conn.close()
        listener.close()
    say("done")


def client(address):
    conn = Client(parse(address), authkey=key())
    try:
        exchange(conn)
    finally:
        conn.close()
    say("done")


if __name__ == "__main__":
    run(server, client)
