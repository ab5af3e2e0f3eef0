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


def server(address):
    listener = Listener(parse(address), authkey=key())
    say("ready")
    conn = listener.accept()
    try:
        while True:
            try:
                message = conn.recv_bytes()
            except EOFError:
                break
            conn.send_bytes(message)
    finally:
        conn.close()
        listener.close()
    say("done")


def client(address):
    messages = [m for m in os.environ.get("FERRY_MESSAGES", "").split(",") if m != "-"]
    conn = Client(parse(address), authkey=key())
    try:
        for m in messages:
            conn.send_bytes(binascii.unhexlify(m.encode("ascii")) if m != "empty" else b"")
            say("reply " + binascii.hexlify(conn.recv_bytes()).decode("ascii"))
    finally:
        conn.close()
    say("done")


def main():
    mode, address = sys.argv[1], sys.argv[2]
    try:
        if mode == "server":
            server(address)
        else:
            client(address)
    except Exception as e:  # one line for the test to read
        say("error %s: %s" % (type(e).__name__, e))
        sys.exit(1)


if __name__ == "__main__":
    main()
