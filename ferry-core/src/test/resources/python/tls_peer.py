# A CPython peer over TLS for Ferry's interop tests: stdlib only, Python 3.7+.
#
# multiprocessing.connection has no TLS, and its Connection cannot wrap an ssl socket. This file's
# SSLConnection does what Connection does (send_bytes, recv_bytes, the framing of PROTOCOL.md
# section 1) over an ssl socket, so that multiprocessing.connection's own answer_challenge and
# deliver_challenge run the HMAC handshake on top of it, as Ferry does inside TLS.
#
#   python tls_peer.py server tcp:HOST:PORT   listen, print "ready", echo one client's messages
#   python tls_peer.py client tcp:HOST:PORT   connect, send each hex message of FERRY_MESSAGES,
#                                             print "reply HEX" per reply, then close
#
# Environment: FERRY_EXAMPLES (the folder of examples/python/tls_client.py), FERRY_KEY (hex; unset means no HMAC handshake), FERRY_CA (PEM of the certificates
# to trust), FERRY_CERT and FERRY_CERT_KEY (this side's PEM certificate and key: required for the
# server, and for a client of a listener that requires client certificates), FERRY_SERVER_NAME
# (the name the client expects in the server's certificate; default the host).
# Failures print one line "error TYPE: MESSAGE" and exit 1.
import os
import socket
import ssl
import sys
from multiprocessing.connection import answer_challenge, deliver_challenge


# The adapter is the one the README shows: examples/python/tls_client.py (FERRY_EXAMPLES names
# that folder), so the example and the tests cannot drift apart.
sys.path.insert(0, os.environ["FERRY_EXAMPLES"])
sys.dont_write_bytecode = True  # leave no __pycache__ beside the extracted scripts
from tls_client import SSLConnection  # noqa: E402
# The plain peer, extracted beside this file: its key, output and message loops.
from peer import echo, exchange, key, run, say  # noqa: E402


def parse(address):
    if not address.startswith("tcp:"):
        raise ValueError("tls needs a tcp address: " + address)
    host, port = address[len("tcp:"):].rsplit(":", 1)
    return host.strip("[]"), int(port)


def context(purpose):
    ctx = ssl.create_default_context(purpose, cafile=os.environ["FERRY_CA"])
    if os.environ.get("FERRY_CERT"):
        ctx.load_cert_chain(os.environ["FERRY_CERT"], os.environ["FERRY_CERT_KEY"])
    return ctx


def server(address):
    ctx = context(ssl.Purpose.CLIENT_AUTH)
    ctx.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: the client shows a certificate
    listener = socket.create_server(parse(address))
    say("ready")
    raw, _ = listener.accept()
    conn = SSLConnection(ctx.wrap_socket(raw, server_side=True))
    try:
        if key() is not None:
            deliver_challenge(conn, key())
            answer_challenge(conn, key())
        echo(conn)
    finally:
        conn.close()
        listener.close()
    say("done")


def client(address):
    host, port = parse(address)
    ctx = context(ssl.Purpose.SERVER_AUTH)
    name = os.environ.get("FERRY_SERVER_NAME", host)
    conn = SSLConnection(ctx.wrap_socket(socket.create_connection((host, port)),
                                         server_hostname=name))
    try:
        if key() is not None:
            answer_challenge(conn, key())
            deliver_challenge(conn, key())
        exchange(conn)
    finally:
        conn.close()
    say("done")


if __name__ == "__main__":
    run(server, client)
