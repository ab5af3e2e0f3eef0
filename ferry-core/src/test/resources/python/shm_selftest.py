"""Self-test of ferry_shm without Java: ferry_shm ends against each other and against stock
multiprocessing.connection ends, in separate processes.

    python shm_selftest.py [--module-dir DIR] [--peer OTHER_PYTHON]... [TEST]...

DIR holds ferry_shm.py (default: this script's folder, then the source tree). Each --peer is
another interpreter whose stock Client and Listener must talk to ferry_shm (2.7 and 3.6 included:
legacy MD5 handshakes). Prints one line per test and "ALL OK" at the end; exits 1 on a failure.
"""

import argparse
import gc
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))

args = None
ferry_shm = None
mp = None
KEY = b"ferry-selftest-key"


def _import(module_dir):
    global ferry_shm, mp
    candidates = [module_dir] if module_dir else [
        HERE, os.path.join(HERE, "..", "..", "..", "main", "resources", "dev", "ferry", "handle")]
    for d in candidates:
        if os.path.exists(os.path.join(d, "ferry_shm.py")):
            sys.path.insert(0, os.path.abspath(d))
            break
    import ferry_shm as module
    import multiprocessing
    ferry_shm = module
    mp = multiprocessing.get_context("fork")


def address(tag):
    return "\0ferry-selftest-%d-%s-%d" % (os.getpid(), tag, random.randrange(1 << 30))


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def raises(exc_type, fn, *a, **kw):
    try:
        fn(*a, **kw)
    except exc_type as e:
        return e
    raise AssertionError("%s did not raise %s" % (getattr(fn, "__name__", fn), exc_type.__name__))


# Peers run in forked children; they report on a stock Pipe.

def echo_server(addr, key, ready, spin_us=0, count=1):
    with ferry_shm.Listener(addr, authkey=key, spin_us=spin_us) as listener:
        ready.send(listener.address)
        for _ in range(count):
            conn = listener.accept()
            ready.send(("lane", conn.lane))
            with conn:
                while True:
                    try:
                        msg = conn.recv_bytes()
                    except EOFError:
                        break
                    conn.send_bytes(msg)


def start(target, *a):
    parent, child = mp.Pipe()
    p = mp.Process(target=target, args=a + (child,) if target is not echo_server else
                   (a[0], a[1], child) + a[2:])
    p.daemon = True
    p.start()
    child.close()
    check(parent.poll(20), "peer did not start")
    return p, parent


def finish(p):
    p.join(20)
    check(p.exitcode == 0, "peer exit code %r" % p.exitcode)


def round_trips(conn):
    for n in (0, 64, 1 << 20, 5 << 20):
        data = os.urandom(n)
        conn.send_bytes(data)
        check(conn.poll(20), "no echo of %d bytes" % n)
        got = conn.recv_bytes()
        check(got == data, "echo of %d bytes differs (got %d)" % (n, len(got)))
    big = bytearray(5 << 20)
    conn.send_bytes(b"abc" * 1000, 3, 2997)
    n = conn.recv_bytes_into(big, 10)
    check(n == 2997 and bytes(big[10:10 + n]) == (b"abc" * 1000)[3:], "recv_bytes_into")
    conn.send({"x": [1, 2.5, "three"]})
    check(conn.recv() == {"x": [1, 2.5, "three"]}, "send/recv of an object")
    small = bytearray(4)
    conn.send_bytes(b"0123456789")
    e = raises(ferry_shm.BufferTooShort, conn.recv_bytes_into, small)
    check(e.args[0] == b"0123456789", "BufferTooShort carries the message")
    arr = __import__("array").array("i", range(1000))
    conn.send_bytes(arr, 8, 16)
    check(conn.recv_bytes() == arr.tobytes()[8:24], "offset and size count bytes")


def test_lane_with_authkey():
    for spin in (0, 200):
        addr = address("auth")
        p, ready = start(echo_server, addr, KEY, spin)
        with ferry_shm.Client(ready.recv(), authkey=KEY, spin_us=spin) as conn:
            check(conn.lane is True, "client has no lane")
            check(ready.recv() == ("lane", True), "server has no lane")
            round_trips(conn)
        finish(p)


def test_lane_without_authkey():
    for spin in (0, 200):
        addr = address("nokey")
        p, ready = start(echo_server, addr, None, spin)
        with ferry_shm.Client(ready.recv(), spin_us=spin, ring_size=4096) as conn:
            check(conn.lane is True, "client has no lane")
            check(ready.recv() == ("lane", True), "server has no lane")
            round_trips(conn)
        finish(p)


def test_path_address():
    import tempfile
    d = tempfile.mkdtemp(prefix="ferry-shm-")
    path = os.path.join(d, "sock")
    try:
        p, ready = start(echo_server, path, KEY)
        check(ready.recv() == path, "listener address")
        with ferry_shm.Client(path, authkey=KEY) as conn:
            check(conn.lane and ready.recv() == ("lane", True), "lane on a path address")
            conn.send_bytes(b"hi")
            check(conn.recv_bytes() == b"hi", "echo")
        finish(p)
        check(not os.path.exists(path), "socket file left behind")
    finally:
        os.rmdir(d)


def test_tcp_address_is_plain():
    p, ready = start(echo_server, ("127.0.0.1", 0), KEY)
    with ferry_shm.Client(ready.recv(), authkey=KEY) as conn:
        check(conn.lane is False and ready.recv() == ("lane", False), "a lane over TCP")
        conn.send_bytes(b"tcp")
        check(conn.recv_bytes() == b"tcp", "echo over TCP")
    finish(p)


def sender(addr, key, n, report):
    # Three lane connections, bursts and pauses, then an orderly close on each.
    conns = [ferry_shm.Client(addr, authkey=key) for _ in range(3)]
    report.send("connected")
    rnd = random.Random(7)
    for i in range(n):
        c = conns[rnd.randrange(3)]
        c.send_bytes(struct.pack("!I", i) + bytes(rnd.randrange(200)))
        r = rnd.random()
        if r < 0.05:
            time.sleep(rnd.random() * 0.002)
        elif r < 0.10:
            # Interleaved: the parent answers this one while other messages are in flight.
            check(c.recv_bytes() == b"ack %d" % i, "ack")
    for c in conns:
        c.close()


def test_wait_many_messages():
    from multiprocessing.connection import wait
    for key in (KEY, None):
        n = 3000
        with ferry_shm.Listener(address("wait"), authkey=key) as listener:
            parent, child = mp.Pipe()
            p = mp.Process(target=sender, args=(listener.address, key, n, child))
            p.start()
            conns = [listener.accept() for _ in range(3)]
            check(all(c.lane for c in conns), "lanes for wait")
            check(parent.recv() == "connected", "sender")
            seen = []
            live = list(conns)
            rnd = random.Random(7)
            expect_ack = {}
            # Rebuild the sender's choices to know which messages want an ack.
            for i in range(n):
                rnd.randrange(3)
                rnd.randrange(200)
                r = rnd.random()
                if r < 0.05:
                    rnd.random()
                elif r < 0.10:
                    expect_ack[i] = True
            while live:
                ready = wait(live, timeout=10)
                check(ready, "wait() timed out with %d of %d messages: a lost wakeup"
                      % (len(seen), n))
                for c in ready:
                    # Readiness may be spurious: poll() says whether a message is there.
                    while c.poll():
                        try:
                            msg = c.recv_bytes()
                        except EOFError:
                            live.remove(c)
                            break
                        i, = struct.unpack("!I", msg[:4])
                        seen.append(i)
                        if i in expect_ack:
                            c.send_bytes(b"ack %d" % i)
            check(sorted(seen) == list(range(n)), "messages lost or duplicated")
            p.join(20)
            check(p.exitcode == 0, "sender exit %r" % p.exitcode)
            for c in conns:
                c.close()


def test_wait_idle_and_wakeup():
    from multiprocessing.connection import wait
    p, ready = start(echo_server, address("idle"), KEY)
    with ferry_shm.Client(ready.recv(), authkey=KEY) as conn:
        ready.recv()
        t = time.monotonic()
        check(wait([conn], 0.3) == [], "idle lane connection reported ready")
        check(time.monotonic() - t >= 0.29, "wait returned early")
        check(not conn.poll(0.05), "poll on an idle lane")
        conn.send_bytes(b"x")
        check(wait([conn], 10) == [conn], "echo not reported by wait()")
        check(conn.poll() and conn.recv_bytes() == b"x", "echo")
        # Two messages waiting: after reading one, wait() still reports the other (self-pipe).
        conn.send_bytes(b"a")
        conn.send_bytes(b"b")
        check(conn.recv_bytes() == b"a", "first")
        time.sleep(0.05)
        check(wait([conn], 0) == [conn] or conn.poll(), "second message not reported")
        check(wait([conn], 10) == [conn], "second message not reported by wait()")
        check(conn.recv_bytes() == b"b", "second")
    finish(p)


def test_orderly_close_and_maxlength():
    def peer(addr, report):
        with ferry_shm.Listener(addr, authkey=KEY) as listener:
            report.send(listener.address)
            conn = listener.accept()
            for m in (b"one", b"two", b"x" * 20, b"three"):
                conn.send_bytes(m)
            check(conn.recv_bytes() == b"still writable", "write after bad length")
            conn.close()
    p, ready = start(peer, address("close"))
    conn = ferry_shm.Client(ready.recv(), authkey=KEY)
    check(conn.recv_bytes() == b"one" and conn.recv_bytes(3) == b"two", "messages before close")
    raises(ValueError, conn.recv_bytes, -1)
    e = raises(OSError, conn.recv_bytes, 10)
    check(str(e) == "bad message length", "bad message length: %s" % e)
    check(not conn.readable and conn.writable, "after bad length: write-only")
    e = raises(OSError, conn.recv_bytes)
    check(str(e) == "connection is write-only", str(e))
    conn.send_bytes(b"still writable")
    finish(p)
    conn.close()
    check(conn.closed, "closed")
    e = raises(OSError, conn.send_bytes, b"x")
    check(str(e) == "handle is closed", str(e))

    def peer2(addr, report):
        with ferry_shm.Listener(addr, authkey=KEY) as listener:
            report.send(listener.address)
            conn = listener.accept()
            for m in (b"a", b"b"):
                conn.send_bytes(m)
            conn.close()
    p, ready = start(peer2, address("close2"))
    with ferry_shm.Client(ready.recv(), authkey=KEY) as conn:
        finish(p)
        check(conn.poll(0) and conn.recv_bytes() == b"a" and conn.recv_bytes() == b"b", "drain")
        check(conn.poll(0), "EOF is readable")
        raises(EOFError, conn.recv_bytes)
        raises(EOFError, conn.recv_bytes)
        raises(BrokenPipeError, conn.send_bytes, b"late")


def test_threads_send_whole_messages():
    p, ready = start(echo_server, address("threads"), None)
    with ferry_shm.Client(ready.recv(), ring_size=4096) as conn:
        check(ready.recv() == ("lane", True), "lane")
        per_thread = 300

        def send(tid):
            rnd = random.Random(tid)
            for i in range(per_thread):
                n = rnd.choice([0, 10, 3000, 20000])
                conn.send_bytes(struct.pack("!II", tid, i) + bytes([tid]) * n)
        threads = [threading.Thread(target=send, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        last = {}
        for _ in range(4 * per_thread):
            msg = conn.recv_bytes()
            tid, i = struct.unpack("!II", msg[:8])
            check(msg[8:] == bytes([tid]) * (len(msg) - 8), "message mixed with another")
            check(last.get(tid, -1) == i - 1, "thread %d: %d after %r" % (tid, i, last.get(tid)))
            last[tid] = i
        for t in threads:
            t.join(10)
    finish(p)


def test_close_from_another_thread():
    p, ready = start(echo_server, address("thread"), KEY)
    conn = ferry_shm.Client(ready.recv(), authkey=KEY)
    ready.recv()
    out = []

    def reader():
        try:
            conn.recv_bytes()
        except BaseException as e:
            out.append(e)
    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.1)
    conn.close()
    t.join(5)
    check(not t.is_alive(), "close did not wake the blocked receive")
    check(out and isinstance(out[0], OSError), "blocked receive got %r" % out)
    finish(p)


def stock_echo_client(addr, key, report):
    from multiprocessing.connection import Client
    with Client(addr, authkey=key) as c:
        report.send(type(c).__module__)
        for m in (b"hello", b"", os.urandom(100000)):
            c.send_bytes(m)
            check(c.recv_bytes() == m, "stock client echo")
        report.send("echoed")
        # The server closes: EOF, and nothing else, is left for a stock reader.
        raises(EOFError, c.recv_bytes)
        report.send("eof")


def test_stock_client_vs_ferry_listener():
    for key in (KEY, None):
        with ferry_shm.Listener(address("stockc"), authkey=key) as listener:
            parent, child = mp.Pipe()
            p = mp.Process(target=stock_echo_client, args=(listener.address, key, child))
            p.start()
            with listener.accept() as conn:
                check(conn.lane is False, "a stock client got a lane")
                check(type(conn).__name__ == "Connection", "plain connection type")
                check(parent.recv() == "multiprocessing.connection", "stock client")
                for _ in range(3):
                    conn.send_bytes(conn.recv_bytes())
                check(parent.recv() == "echoed", "echo")
            check(parent.recv() == "eof", "stock client saw more than EOF")
            p.join(20)
            check(p.exitcode == 0, "stock client exit %r" % p.exitcode)


def stock_echo_listener(addr, key, report):
    from multiprocessing.connection import Listener
    with Listener(addr, authkey=key) as listener:
        report.send(listener.address)
        with listener.accept() as c:
            first = c.recv_bytes()
            report.send(first)
            c.send_bytes(first)
            while True:
                try:
                    c.send_bytes(c.recv_bytes())
                except EOFError:
                    break


def stock_silent_listener(addr, key, report):
    from multiprocessing.connection import Listener
    with Listener(addr, authkey=key) as listener:
        report.send(listener.address)
        with listener.accept() as c:
            report.send(c.recv_bytes())
            raises(EOFError, c.recv_bytes)


def test_ferry_client_vs_stock_listener():
    p, ready = start(stock_echo_listener, address("stockl"), KEY)
    with ferry_shm.Client(ready.recv(), authkey=KEY) as conn:
        check(conn.lane is False, "lane against a stock listener")
        conn.send_bytes(b"hello")
        check(ready.recv() == b"hello", "the stock listener's first message is not ours")
        check(conn.recv_bytes() == b"hello", "echo")
        data = os.urandom(3 << 20)
        conn.send_bytes(data)
        check(conn.recv_bytes() == data, "large echo")
    finish(p)
    # Without an authkey a lane client offers blindly: a stock listener never answers.
    p, ready = start(stock_silent_listener, address("stockl2"), None)
    e = raises(TimeoutError, ferry_shm.Client, ready.recv(), handshake_timeout=0.5)
    check("offer not answered" in str(e), str(e))
    check(len(ready.recv()) == 24, "the stock listener got the 24-byte offer as a message")
    finish(p)
    # lane=False is exactly the stock client.
    p, ready = start(stock_echo_listener, address("stockl3"), None)
    with ferry_shm.Client(ready.recv(), lane=False) as conn:
        check(conn.lane is False, "lane=False")
        conn.send_bytes(b"plain")
        check(ready.recv() == b"plain" and conn.recv_bytes() == b"plain", "plain echo")
    finish(p)


def idle_lane_client(addr, spin_us, report):
    conn = ferry_shm.Client(addr, authkey=KEY, spin_us=spin_us)
    report.send(conn.lane)
    time.sleep(60)


def test_sigkill_peer():
    for spin in (0, 1000000):
        with ferry_shm.Listener(address("kill"), authkey=KEY, spin_us=spin) as listener:
            parent, child = mp.Pipe()
            p = mp.Process(target=idle_lane_client, args=(listener.address, spin, child))
            p.start()
            conn = listener.accept()
            check(parent.recv() is True and conn.lane, "lane")
            killed = []

            def kill():
                killed.append(time.monotonic())
                os.kill(p.pid, signal.SIGKILL)
            threading.Timer(0.2, kill).start()
            raises(EOFError, conn.recv_bytes)
            took = time.monotonic() - killed[0]
            check(took < 1.0, "EOF %.3f s after SIGKILL (spin %d us)" % (took, spin))
            log("  reader (spin_us=%d): EOFError %.1f ms after SIGKILL" % (spin, took * 1000))
            p.join(5)
            conn.close()
    # A writer blocked on a full ring.
    with ferry_shm.Listener(address("killw"), authkey=KEY) as listener:
        parent, child = mp.Pipe()
        p = mp.Process(target=idle_lane_client, args=(listener.address, 0, child))
        p.start()
        conn = listener.accept()
        check(parent.recv() is True, "lane")
        killed = []

        def kill():
            killed.append(time.monotonic())
            os.kill(p.pid, signal.SIGKILL)
        threading.Timer(0.2, kill).start()
        raises(BrokenPipeError, conn.send_bytes, bytes(8 << 20))
        took = time.monotonic() - killed[0]
        check(took < 1.0, "BrokenPipeError %.3f s after SIGKILL" % took)
        log("  writer on a full ring: BrokenPipeError %.1f ms after SIGKILL" % (took * 1000))
        p.join(5)
        conn.close()


def hostile_client(addr, how, report):
    conn = ferry_shm.Client(addr, authkey=KEY)
    report.send(conn.lane)
    report.recv()
    cap = conn._cap
    if how == "tail beyond capacity":
        conn._w_tail.value = 10 * cap + 12345
    elif how == "tail going back":
        conn.send_bytes(b"fine")
        report.recv()
        conn._w_tail.value = 3
    elif how == "negative length":
        conn._mm[conn._wbase:conn._wbase + 4] = struct.pack("!i", -5)
        conn._w_tail.value = 4
    elif how == "huge length":
        conn._mm[conn._wbase:conn._wbase + 12] = struct.pack("!iQ", -1, 1 << 62)
        conn._w_tail.value = 12
    elif how == "head beyond tail":
        conn._r_head.value = 1 << 40
        report.send("scribbled")
    try:
        conn._sock.send(b"\x01" if how == "bad socket byte" else b"\x00")
    except OSError:
        pass  # the reader already gave up on this lane and closed it
    report.recv()


def test_hostile_ring():
    for how in ("tail beyond capacity", "tail going back", "negative length", "huge length",
                "bad socket byte", "head beyond tail"):
        with ferry_shm.Listener(address("hostile"), authkey=KEY) as listener:
            parent, child = mp.Pipe()
            p = mp.Process(target=hostile_client, args=(listener.address, how, child))
            p.start()
            conn = listener.accept()
            check(parent.recv() is True and conn.lane, "lane")
            parent.send("go")
            if how == "tail going back":
                check(conn.recv_bytes() == b"fine", "before the scribble")
                parent.send("go")
            try:
                if how == "huge length":
                    # Declared 2^62 bytes: no allocation up front; the peer's end ends the wait.
                    threading.Timer(0.5, parent.send, ("done",)).start()
                if how == "head beyond tail":
                    check(parent.recv() == "scribbled", "scribbled")
                    conn.send_bytes(bytes(3 << 20))
                    raise AssertionError("%s: sent" % how)
                got = conn.recv_bytes()
                raise AssertionError("%s: received %r" % (how, got[:20]))
            except OSError as e:
                ok = str(e).startswith("shared-memory lane:") or (
                    how == "huge length" and "end of file" in str(e))
                check(ok, "%s: %r" % (how, e))
                log("  %s -> %s" % (how, e))
            except EOFError:
                # As a stock reader: a header, then the end before any payload byte.
                check(how == "huge length", "%s: EOFError" % how)
                log("  %s -> EOFError when the peer went away" % how)
            if how != "huge length":
                check(conn.closed, "%s: connection not closed" % how)
                parent.send("done")
            conn.close()
            p.join(10)


def garbage_client(addr, seed, report):
    conn = ferry_shm.Client(addr, authkey=KEY, ring_size=4096)
    report.send(conn.lane)
    rnd = random.Random(seed)
    try:
        scribble(conn, rnd)
    except OSError:
        pass  # the reader gave up on this lane and closed it
    report.recv()


def scribble(conn, rnd):
    tail = 0
    for _ in range(rnd.randrange(1, 6)):
        n = rnd.randrange(0, 4096 - (tail - 0) % 4096 + 1) if rnd.random() < 0.8 else 4
        chunk = bytes(rnd.getrandbits(8) for _ in range(n))
        if rnd.random() < 0.5 and n >= 4:
            # A plausible header more often than chance would give one.
            chunk = struct.pack("!i", rnd.choice([0, 1, n - 4, 5000, -1, -2])) + chunk[4:]
        off = tail % 4096
        first = min(n, 4096 - off)
        conn._mm[conn._wbase + off:conn._wbase + off + first] = chunk[:first]
        conn._mm[conn._wbase:conn._wbase + n - first] = chunk[first:]
        tail += n
        conn._w_tail.value = tail if rnd.random() < 0.9 else rnd.getrandbits(64)
        conn._sock.send(b"\x00")
        time.sleep(0.002)


def test_garbage_in_the_ring():
    """Random bytes and tails from the peer: messages, or OSError/EOFError, never anything else."""
    outcomes = {}
    for seed in range(20):
        with ferry_shm.Listener(address("garbage"), authkey=KEY) as listener:
            parent, child = mp.Pipe()
            p = mp.Process(target=garbage_client, args=(listener.address, seed, child))
            p.start()
            conn = listener.accept()
            check(parent.recv() is True, "lane")
            # The peer leaves 0.15 s after it starts: a wait for bytes that never come ends then.
            threading.Timer(0.15, parent.send, ("done",)).start()
            try:
                while True:
                    conn.recv_bytes()
            except (OSError, EOFError) as e:
                kind = type(e).__name__ + (": lane" if "shared-memory lane" in str(e) else "")
                outcomes[kind] = outcomes.get(kind, 0) + 1
            conn.close()
            p.join(10)
            check(p.exitcode == 0, "garbage client exit %r" % p.exitcode)
    log("  outcomes: %r" % outcomes)


def test_offer_split_across_writes():
    """Ferry sends an OFFER's first 18 bytes at once and the rest with the descriptor later."""
    with ferry_shm.Listener(address("split"), authkey=None) as listener:
        region, fd = ferry_shm._Region.create(4096)
        s = socket.socket(socket.AF_UNIX)
        s.connect(listener.address)
        frame = struct.pack("!i", 24) + b"#FERRY-LANE#\x01O\x00\x00" + struct.pack(
            ">Q", 640 + 2 * 4096)
        s.sendall(frame[:18])

        def rest():
            time.sleep(ferry_shm.OFFER_WINDOW + 0.1)
            s.sendmsg([frame[18:]], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", fd))])
        t = threading.Thread(target=rest)
        t.start()
        conn = listener.accept()
        t.join()
        os.close(fd)
        check(conn.lane is True, "split offer not taken")
        head = s.recv(4)
        check(s.recv(struct.unpack("!i", head)[0]) == b"#FERRY-LANE#\x01A\x00\x00", "accept")
        conn.close()
        s.close()
        region.close()


def test_hostile_offers():
    """Offers that fail validation are refused; the connection goes on as a plain one."""
    import mmap as mmap_module
    cases = ["no descriptor", "two descriptors", "short file", "bad magic", "nonzero counter",
             "bad size", "not mappable"]
    for how in cases:
        with ferry_shm.Listener(address("offer"), authkey=None) as listener:
            s = socket.socket(socket.AF_UNIX)
            s.connect(listener.address)
            cap = 4096
            size = 640 + 2 * cap
            fd = os.memfd_create("hostile")
            os.ftruncate(fd, size if how != "short file" else 100)
            if how != "short file":
                with mmap_module.mmap(fd, size) as mm:
                    magic = b"FERRYLN\0" if how != "bad magic" else b"FERRYLX\0"
                    struct.pack_into("<8sIIQQQ", mm, 0, magic, 1, 128, cap, 128, 384 + cap)
                    if how == "nonzero counter":
                        struct.pack_into("<Q", mm, 128 + 128, 7)
            fds = {"no descriptor": [], "two descriptors": [fd, fd],
                   "not mappable": [s.fileno()]}.get(how, [fd])
            declared = size if how != "bad size" else size + 1
            payload = b"#FERRY-LANE#\x01O\x00\x00" + struct.pack(">Q", declared)
            frame = struct.pack("!i", 24) + payload
            anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("%di" % len(fds), *fds))] \
                if fds else []
            s.sendmsg([frame], anc)
            os.close(fd)
            conn = listener.accept()
            check(conn.lane is False and conn.lane_refused, "%s: not refused" % how)
            head = s.recv(4)
            reply = s.recv(struct.unpack("!i", head)[0])
            check(reply[:16] == b"#FERRY-LANE#\x01R\x00\x00", "%s: reply %r" % (how, reply))
            log("  %s -> refused: %s" % (how, reply[16:].decode()))
            s.sendall(struct.pack("!i", 5) + b"plain")
            check(conn.recv_bytes() == b"plain", "%s: plain after refusal" % how)
            conn.close()
            s.close()


def refusing_server(addr, key, how, report):
    if how == "cannot map":
        def refuse(fd, size):
            raise ValueError("test refusal")
        ferry_shm._Region.accept = refuse
    else:
        ferry_shm.lane_supported = False
        ferry_shm.unsupported_reason = "shared-memory lane needs x86-64 Linux: test"
    echo_server(addr, key, report)


def test_refused_offer_goes_on_plain():
    cases = [("cannot map", KEY, "test refusal"), ("cannot map", None, "test refusal"),
             ("no lane here", None, "shared-memory lane needs x86-64 Linux: test")]
    for how, key, reason in cases:
        p, ready = start(refusing_server, address("refuse"), key, how)
        with ferry_shm.Client(ready.recv(), authkey=key) as conn:
            check(ready.recv() == ("lane", False), "%s: server lane" % how)
            check(conn.lane is False and conn.lane_refused == reason,
                  "%s: %r %r" % (how, conn.lane, conn.lane_refused))
            conn.send_bytes(b"plain")
            check(conn.recv_bytes() == b"plain", "echo after a refusal")
        finish(p)


def peer_code(role):
    # Runs in another interpreter (any version): a stock end.
    if role == "client":
        return ("import sys\nfrom multiprocessing.connection import Client\n"
                "c = Client(sys.argv[1], authkey=b'%s')\n"
                "c.send_bytes(b'hello')\nassert c.recv_bytes() == b'hello'\n"
                "c.send_bytes(b'bye')\nc.close()\nprint('ok')\n" % KEY.decode())
    return ("import sys\nfrom multiprocessing.connection import Listener\n"
            "l = Listener(sys.argv[1], authkey=b'%s')\nsys.stdout.write('ready\\n')\n"
            "sys.stdout.flush()\nc = l.accept()\nm = c.recv_bytes()\nc.send_bytes(m)\n"
            "c.recv_bytes()\nc.close()\nl.close()\nprint(m.decode())\n" % KEY.decode())


def test_other_interpreters():
    import tempfile
    for other in args.peer:
        d = tempfile.mkdtemp(prefix="ferry-shm-")
        path = os.path.join(d, "s")
        try:
            with ferry_shm.Listener(path, authkey=KEY) as listener:
                proc = subprocess.Popen([other, "-c", peer_code("client"), path],
                                        stdout=subprocess.PIPE)
                with listener.accept() as conn:
                    check(not conn.lane, "stock %s got a lane" % other)
                    conn.send_bytes(conn.recv_bytes())
                    check(conn.recv_bytes() == b"bye", "stock client")
                out = proc.communicate(timeout=30)[0]
                check(proc.returncode == 0 and out.strip() == b"ok", "%s client: %r" % (other, out))
            proc = subprocess.Popen([other, "-c", peer_code("listener"), path],
                                    stdout=subprocess.PIPE)
            check(proc.stdout.readline().strip() == b"ready", "stock listener")
            with ferry_shm.Client(path, authkey=KEY) as conn:
                check(not conn.lane, "lane against stock %s" % other)
                conn.send_bytes(b"hello")
                check(conn.recv_bytes() == b"hello", "echo from stock listener")
                conn.send_bytes(b"bye")
            out = proc.communicate(timeout=30)[0]
            check(proc.returncode == 0 and out.strip() == b"hello",
                  "%s listener: %r" % (other, out))
            log("  stock %s: client and listener OK" % other)
        finally:
            if os.path.exists(path):
                os.unlink(path)
            os.rmdir(d)


def test_wrong_key():
    from multiprocessing import AuthenticationError

    def peer(addr, report):
        with ferry_shm.Listener(addr, authkey=KEY) as listener:
            report.send(listener.address)
            e = raises(AuthenticationError, listener.accept)
            report.send(str(e))
    p, ready = start(peer, address("wrongkey"))
    e = raises(AuthenticationError, ferry_shm.Client, ready.recv(), authkey=b"other")
    check(str(e) == "digest sent was rejected", str(e))
    check(ready.recv() == "digest received was wrong", "server side")
    finish(p)


def log(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def open_fds():
    return sorted(os.listdir("/proc/self/fd"))


def lane_maps():
    with open("/proc/self/maps") as f:
        return [l for l in f if "ferry-lane" in l]


def main():
    global args
    parser = argparse.ArgumentParser()
    parser.add_argument("--module-dir")
    parser.add_argument("--peer", action="append", default=[])
    parser.add_argument("tests", nargs="*")
    args = parser.parse_args()
    _import(args.module_dir)
    log("python %s, ferry_shm from %s, lane supported: %s"
        % (sys.version.split()[0], ferry_shm.__file__, ferry_shm.lane_supported))
    if not ferry_shm.lane_supported:
        log("no lane here (%s): nothing to test" % ferry_shm.unsupported_reason)
        return 0
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_")]
    if args.tests:
        tests = [(n, f) for n, f in tests if n[5:] in args.tests or n in args.tests]
    shm_before = set(os.listdir("/dev/shm"))
    fds_before = open_fds()
    failed = 0
    for name, fn in tests:
        signal.alarm(120)  # a hang is a failure, not a stuck build
        t = time.monotonic()
        try:
            fn()
            log("ok   %s (%.2f s)" % (name[5:], time.monotonic() - t))
        except BaseException:
            failed += 1
            log("FAIL %s\n%s" % (name[5:], traceback.format_exc()))
        finally:
            signal.alarm(0)
    gc.collect()
    leaked_fds = [fd for fd in open_fds() if fd not in fds_before]
    leaked_shm = set(os.listdir("/dev/shm")) - shm_before
    # Name the leak: the listing itself holds one descriptor.
    leaked_fds = [(fd, os.readlink("/proc/self/fd/" + fd)) for fd in leaked_fds
                  if os.path.exists("/proc/self/fd/" + fd)]
    if leaked_fds:
        failed += 1
        log("FAIL descriptors leaked: %r" % leaked_fds)
    if leaked_shm:
        failed += 1
        log("FAIL /dev/shm files left: %r" % sorted(leaked_shm))
    if lane_maps():
        failed += 1
        log("FAIL lane regions still mapped: %r" % lane_maps())
    if failed:
        log("%d FAILED" % failed)
        return 1
    log("ALL OK")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGALRM, lambda *a: (_ for _ in ()).throw(TimeoutError("test hung")))
    sys.exit(main())
