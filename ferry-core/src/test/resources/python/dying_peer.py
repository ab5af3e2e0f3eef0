"""A CPython client that authenticates, then starts a message it never finishes.

Usage: dying_peer.py (unix PATH | tcp PORT) KEYHEX. Prints "ready" once half the message is out;
FaultTest then kills it with SIGKILL.
"""
import sys
import time
from multiprocessing.connection import Client

kind, where, key = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])
address = where if kind == "unix" else ("127.0.0.1", int(where))
conn = Client(address, authkey=key)
conn._send(b"\x00\x01\x00\x00" + b"x" * 1000)  # a header for 65536 bytes, then 1000 of them
print("ready", flush=True)
time.sleep(3600)
