# The CPython side of Ferry's interop matrix: stdlib only, runs on 2.7 and 3.6 to 3.13.
#
# One process per interpreter serves many cases. It reads one command per line on stdin and
# answers on stdout, one line per step, so the Java test drives it like a remote control:
#
#   serve ADDRESS KEY MODE     bind a Listener, print "listening ADDRESS", accept one client,
#                              run MODE on it, print the result line
#   connect ADDRESS KEY MODE   connect a Client, run MODE on it, print the result line
#   wait ADDRESS KEY N         connect N Clients, send each its index as one byte, print
#                              "connected", read "go" from stdin, then call wait() on the N
#                              connections and print "ready I,J,..." with the indexes it returned
#                              (it checks that each ready connection holds the message b"go I")
#   quit                       exit
#
# ADDRESS is Ferry's text form: unix:/path, unix:@name (abstract), tcp:host:port (port 0 asks for
# any free port; "listening" reports the port bound). KEY is "none" (no authkey), "empty" (b'')
# or the key in hex: keys travel here on stdin, never on a command line.
#
# MODE, the same for both roles:
#   bytes      receive the PATTERN_SIZES messages, check each against pattern(n), echo it;
#              then send the same messages and check the echo Ferry returns
#   objects    recv() one object and compare it with VALUE, send(VALUE), recv() the echo of it
#   echo       echo every message until end of stream
#   xml        the same as objects, through XmlListener / XmlClient and XML_VALUE
#   xml-echo   through XmlClient, send() each of xml_echo_values() and check that the echo is
#              byte for byte what this Python's own dumps writes for it, and loads back equal
#   stdlib     send(STDLIB_VALUE) (the standard library's data types this version has), recv()
#              the echo and check each item's type, value, maxlen, factory, typecode and fold
#   big-recv   recv_bytes() one message and report its length and zlib.crc32
#   big-send   send_bytes() one message of BIG_SIZE pattern bytes (built here)
#
# Result lines: "ok DETAIL" or "error TYPE: MESSAGE" (a failed case never ends the process).
# Everything printed is ASCII.
from __future__ import unicode_literals

import array
import binascii
import collections
import datetime
import fractions
import os
import sys
import zlib
from multiprocessing import connection
from multiprocessing.connection import Client, Listener

try:
    import xmlrpc.client as xmlrpclib
except ImportError:  # Python 2.7
    import xmlrpclib

PY2 = sys.version_info[0] == 2
if PY2:
    text_type = unicode  # noqa: F821 (Python 2 only)
else:
    text_type = str

# The messages of "bytes" mode: around the sizes where CPython changes how it writes a frame
# (one buffer up to 16384 bytes on 3.x, below 16384 on 2.7) and one larger than a socket buffer.
PATTERN_SIZES = [0, 1, 5, 16383, 16384, 16385, 300000]

# Big messages: just over the 2^31-1 bytes of a 4-byte header, so the 64-bit escape is used.
BIG_SIZE = 2 ** 31 + 16

# The value of "objects" mode. Ferry's tests hold the same value in Java.
VALUE = {
    "text": "h\u00e9llo \u2713 \U0001f600",
    "count": 42,
    "large": 2 ** 40,
    "big": 2 ** 100,
    "negative": -(2 ** 70),
    "ratio": 2.5,
    "nothing": None,
    "yes": True,
    "raw": b"\x00\x01\xfe\xff",
    "pair": (1, "two", None),
    "items": [1, -0.5, [True, False], {"inner": b"x", "empty": []}, ()],
}



def latin1_text(value):
    """VALUE as Ferry echoes it to Python 2: str (bytes) reaches Java as text, comes back unicode."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, dict):
        return dict((latin1_text(k), latin1_text(v)) for k, v in value.items())
    if isinstance(value, list):
        return [latin1_text(v) for v in value]
    if isinstance(value, tuple):
        return tuple(latin1_text(v) for v in value)
    return value


ECHO_VALUE = latin1_text(VALUE) if PY2 else VALUE

# The value of "xml" mode: what XML-RPC carries (no bytes, no big ints, no tuples).
XML_VALUE = ["hello world", None, True, 2.25, 42, "hall\u00e5 v\u00e4rlden", {"k": [1, "\u043f"]}]


def xml_echo_values():
    """Each type XML-RPC carries, one message each; Binary and DateTime come back as such."""
    when = datetime.datetime(2024, 2, 29, 12, 30, 5)
    return [
        42, -2 ** 31, 2 ** 31 - 1, 2.5, 1e-05, 1e+20, -0.0, float("inf"),
        "hello", "h\u00e9llo \u2713 \U0001f600 <&> \"'", "", True, False, None,
        [1, [2, "x"], []], {"k": {"n": 1.5}}, {},
        xmlrpclib.Binary(b"\x00\xff" * 50), xmlrpclib.Binary(b""), when,
        [None, {"when": xmlrpclib.DateTime(when), "raw": xmlrpclib.Binary(b"hi")}],
    ]


def stdlib_value():
    """The data types of issue 14 that this version can pickle; Java holds the same list."""
    value = [collections.OrderedDict([("b", 1), ("a", 2)]),
             collections.defaultdict(list, {"a": [1]}), collections.defaultdict(int),
             collections.Counter({"x": 2}), collections.deque([1, 2], 5),
             fractions.Fraction(3, 4), array.array(str("i"), [1, -2]),
             array.array(str("d"), [0.5]), slice(1, None, 2),
             xrange(1, 11, 2) if PY2 else range(1, 11, 2)]  # noqa: F821 (Python 2 only)
    if not PY2:
        value += [Ellipsis, NotImplemented]
    if sys.version_info >= (3, 9):
        import zoneinfo
        paris = zoneinfo.ZoneInfo("Europe/Paris")
        value.append(datetime.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=paris))
    return value


def same_stdlib(a, b):
    if type(a) is not type(b):
        return False
    if type(a).__name__ == "xrange":
        return repr(a) == repr(b)  # Python 2's xrange compares by identity
    return (a == b and getattr(a, "maxlen", None) == getattr(b, "maxlen", None)
            and getattr(a, "default_factory", None) is getattr(b, "default_factory", None)
            and getattr(a, "typecode", None) == getattr(b, "typecode", None)
            and getattr(a, "fold", 0) == getattr(b, "fold", 0)
            and list(getattr(a, "keys", list)()) == list(getattr(b, "keys", list)()))


def run_stdlib(conn):
    value = stdlib_value()
    conn.send(value)
    echo = conn.recv()
    expect("number of items echoed", len(echo), len(value))
    for sent, got in zip(value, echo):
        if not same_stdlib(sent, got):
            raise Mismatch("sent %s, got back %s" % (describe(sent), describe(got)))
    return "stdlib %d" % len(value)


def pattern(n):
    """n bytes whose value at i is (i + n) % 251: cheap here and in Java, sensitive to shifts."""
    cycle = bytearray((i + n) % 251 for i in range(251))
    whole, rest = divmod(n, 251)
    return bytes(cycle * whole + cycle[:rest])


PATTERNS = dict((n, pattern(n)) for n in PATTERN_SIZES)


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def parse_address(text):
    if text.startswith("unix:@"):
        name = "\0" + text[len("unix:@"):]
        # Listener.address gives abstract names back as bytes from 3.7 on, and Client takes bytes
        # there. 2.7 and 3.6 take only str (3.6: Client(bytes) -> ValueError, bpo-39850).
        if sys.version_info >= (3, 7):
            return name.encode("utf-8")
        return str(name)
    if text.startswith("unix:"):
        return str(text[len("unix:"):])
    if text.startswith("tcp:"):
        host, port = text[len("tcp:"):].rsplit(":", 1)
        return (str(host), int(port))
    raise ValueError("bad address " + text)


def format_address(address):
    if isinstance(address, tuple):
        return "tcp:%s:%d" % address
    if isinstance(address, bytes) and address.startswith(b"\0"):
        return "unix:@" + address[1:].decode("utf-8")
    if address.startswith("\0"):
        return "unix:@" + address[1:]
    return "unix:" + address


def parse_key(text):
    if text == "none":
        return None
    if text == "empty":
        return b""
    return binascii.unhexlify(text.encode("ascii"))


def checksum(data):
    return zlib.crc32(data) & 0xffffffff


def describe(value):
    return repr(value).encode("ascii", "backslashreplace").decode("ascii")


def message(error):
    try:
        text = text_type(error)
    except UnicodeError:
        return describe(error)
    return text.encode("ascii", "backslashreplace").decode("ascii").replace("\n", " ")


class Mismatch(Exception):
    pass


def expect(what, got, wanted):
    if got != wanted:
        raise Mismatch("%s: got %s, expected %s" % (what, describe(got), describe(wanted)))


def run_bytes(conn):
    for n in PATTERN_SIZES:
        got = conn.recv_bytes()
        expect("message of %d bytes" % n, len(got), n)
        if got != PATTERNS[n]:
            raise Mismatch("message of %d bytes differs from the pattern" % n)
        conn.send_bytes(got)
    for n in PATTERN_SIZES:
        conn.send_bytes(PATTERNS[n])
        if conn.recv_bytes() != PATTERNS[n]:
            raise Mismatch("echo of %d bytes differs" % n)
    return "bytes %d+%d" % (len(PATTERN_SIZES), len(PATTERN_SIZES))


def run_objects(conn, value, echo_value):
    got = conn.recv()
    expect("received object", got, value)
    conn.send(value)
    echo = conn.recv()
    expect("echoed object", echo, echo_value)
    return "objects"


def run_xml_echo(conn):
    values = xml_echo_values()
    for value in values:
        conn.send(value)
        raw = conn.recv_bytes()
        own = xmlrpclib.dumps((value,), None, None, None, 1)
        if not isinstance(own, bytes):
            own = own.encode("utf-8")
        expect("echo of %s" % describe(value), raw, own)
        (back,), method = xmlrpclib.loads(raw)
        expect("value loaded from the echo", back, value)
    return "xml-echo %d" % len(values)


def run_echo(conn):
    count = 0
    while True:
        try:
            message = conn.recv_bytes()
        except EOFError:
            return "echoed %d" % count
        conn.send_bytes(message)
        count += 1


def run_big_recv(conn):
    data = conn.recv_bytes()
    return "received %d %08x" % (len(data), checksum(data))


def run_big_send(conn):
    # (i + BIG_SIZE) % 251 repeats every 251 bytes: fill the buffer with whole blocks of it.
    block = pattern(BIG_SIZE % 251 + 251 * 4096)[:251 * 4096]
    data = bytearray(BIG_SIZE)
    view = memoryview(data)
    for start in range(0, BIG_SIZE, len(block)):
        end = min(start + len(block), BIG_SIZE)
        view[start:end] = block[:end - start]
    crc = checksum(view)
    conn.send_bytes(view)
    view.release()
    return "sent %d %08x" % (len(data), crc)


def run(conn, mode):
    if mode == "bytes":
        return run_bytes(conn)
    if mode in ("objects", "xml"):
        if mode == "xml":
            return run_objects(conn, XML_VALUE, XML_VALUE)
        return run_objects(conn, VALUE, ECHO_VALUE)
    if mode == "xml-echo":
        return run_xml_echo(conn)
    if mode == "stdlib":
        return run_stdlib(conn)
    if mode == "echo":
        return run_echo(conn)
    if mode == "big-recv":
        return run_big_recv(conn)
    if mode == "big-send":
        return run_big_send(conn)
    raise ValueError("unknown mode " + mode)


def close_listener(listener):
    try:
        listener.close()
    except (TypeError, ValueError):
        # 2.7 and 3.6 close the socket, then fail to unlink an abstract name, which is no file
        # (bpo-39850): "embedded null byte" / "must be encoded string without null bytes".
        pass


def serve(address, key, mode):
    factory = connection.XmlListener if mode == "xml" else Listener
    listener = factory(parse_address(address), authkey=key)
    try:
        say("listening " + format_address(listener.address))
        conn = listener.accept()
        try:
            return run(conn, mode)
        finally:
            conn.close()
    finally:
        close_listener(listener)


def connect(address, key, mode):
    factory = connection.XmlClient if mode in ("xml", "xml-echo") else Client
    conn = factory(parse_address(address), authkey=key)
    try:
        return run(conn, mode)
    finally:
        conn.close()


def wait_for(address, key, count, stdin):
    conns = []
    try:
        for i in range(count):
            conns.append(Client(parse_address(address), authkey=key))
            conns[-1].send_bytes(bytes(bytearray([i])))
        say("connected")
        go = stdin.readline().strip()
        if go != "go":
            raise ValueError("expected go, got " + describe(go))
        ready = connection.wait(conns, 10)
        indexes = sorted(conns.index(c) for c in ready)
        for i in indexes:
            got = conns[i].recv_bytes()
            expect("message on connection %d" % i, got, ("go %d" % i).encode("ascii"))
        return "ready " + ",".join(str(i) for i in indexes)
    finally:
        for c in conns:
            c.close()


def main():
    stdin = sys.stdin
    while True:
        line = stdin.readline()
        if not line:
            return
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            return
        try:
            if words[0] == "serve":
                result = serve(words[1], parse_key(words[2]), words[3])
            elif words[0] == "connect":
                result = connect(words[1], parse_key(words[2]), words[3])
            elif words[0] == "wait":
                result = wait_for(words[1], parse_key(words[2]), int(words[3]), stdin)
            else:
                raise ValueError("unknown command " + words[0])
            say("ok " + result)
        except Exception as e:  # one line for the test to read; the next case goes on
            say("error %s: %s" % (type(e).__name__, message(e)))


if __name__ == "__main__":
    main()
