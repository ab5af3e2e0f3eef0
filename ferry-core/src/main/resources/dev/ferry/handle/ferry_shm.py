"""ferry_shm: CPython's multiprocessing.connection with Ferry's shared-memory lane (issue #17).

Standard library only, CPython 3.8+. ``Client`` and ``Listener`` work like their
``multiprocessing.connection`` namesakes. When both ends opt in (a Ferry end with a
``SharedMemoryLane`` option, or another ferry_shm end) on a Unix socket, each direction's bytes
travel through a ring in shared memory instead of through the socket; the socket stays to wake a
sleeping reader and to learn of the peer's end. The wire and memory layout are Ferry's
docs/LANE.md; the Python API is docs/FERRY_SHM.md.

    import ferry_shm
    with ferry_shm.Client("/tmp/echo.sock", authkey=b"secret", spin_us=50) as conn:
        conn.send_bytes(b"ping")
        print(conn.recv_bytes(), conn.lane)

A peer that did not opt in (a stock ``multiprocessing.connection`` end) gets, and gives, a plain
``multiprocessing.connection.Connection``, byte for byte what it would have got from the stock
module. Every connection these functions return has a ``lane`` attribute: True when its bytes go
through shared memory. A lane needs x86-64 Linux; elsewhere (and for TCP addresses) connections
are plain.
"""

import errno
import hmac
import io
import mmap
import os
import platform
import select
import socket
import struct
import sys
import threading
import time

from multiprocessing import AuthenticationError, BufferTooShort, util
from multiprocessing import connection as _mpc
from multiprocessing.reduction import ForkingPickler

__all__ = ["Client", "Listener", "LaneConnection", "lane_supported", "unsupported_reason",
           "DEFAULT_RING_SIZE"]

DEFAULT_RING_SIZE = 1 << 20
MIN_RING_SIZE = 4096
MAX_RING_SIZE = 256 << 20
DEFAULT_HANDSHAKE_TIMEOUT = 20.0
# A keyless listener waits this long for the first bytes of a lane client's OFFER before it serves
# a plain socket (LANE.md section 1.2).
OFFER_WINDOW = 0.2


def _why_no_lane():
    if not sys.platform.startswith("linux"):
        return "shared-memory lane needs x86-64 Linux: " + sys.platform
    machine = platform.machine()
    if machine not in ("x86_64", "AMD64"):
        # The plain loads and stores below are acquire/release only under x86's TSO.
        return "shared-memory lane needs x86-64 Linux: " + machine
    for module, name in ((os, "memfd_create"), (socket.socket, "sendmsg"), (select, "epoll"),
                         (os, "pipe2"), (select, "POLLRDHUP")):
        if not hasattr(module, name):
            return "shared-memory lane needs %s, missing here" % name
    try:
        import ctypes
        try:
            libc = ctypes.CDLL(None)
            trylock = libc.pthread_spin_trylock
        except AttributeError:
            # glibc before 2.34 keeps it in libpthread, loaded only by threaded programs.
            import ctypes.util
            trylock = ctypes.CDLL(ctypes.util.find_library("pthread")).pthread_spin_trylock
    except (ImportError, OSError, AttributeError, TypeError) as e:
        return "shared-memory lane needs ctypes and pthread_spin_trylock: %s" % e
    global _fence
    # glibc's trylock is one `lock cmpxchg` (or `xchg`), a full barrier on x86, whether it takes
    # the lock or finds it taken. The word is private and never unlocked: each call is a fence.
    word = ctypes.c_int(0)
    pointer = ctypes.byref(word)
    trylock(pointer)
    _fence_keep.append(word)
    _fence = lambda: trylock(pointer)  # noqa: E731
    return None


_fence_keep = []
_fence = None
unsupported_reason = _why_no_lane()
"""None where this interpreter can run a lane, else why not (the connections are then plain)."""
lane_supported = unsupported_reason is None
"""Whether this interpreter can run a lane (x86-64 Linux, memfd, epoll, ctypes)."""

if lane_supported:
    import ctypes
    _u64 = ctypes.c_uint64
    _u32 = ctypes.c_uint32

# A spinning reader yields its core this often (sched_yield returns at once when no other thread
# waits for it).
_SPIN_SLICE_NS = 5000

# Setup frames (LANE.md section 2): "#FERRY-LANE#", version 1, a kind byte, two zero bytes.
_LANE_PREFIX = b"#FERRY-LANE#\x01"
_OFFER_HEAD = b"\x00\x00\x00\x18" + _LANE_PREFIX + b"O\x00\x00"  # then the u64 region size
_OFFER_FRAME_LEN = 28
_REPLY_ACCEPT = _LANE_PREFIX + b"A\x00\x00"
_REPLY_REFUSE = _LANE_PREFIX + b"R\x00\x00"
_SERVER_MARK = b"FLANE-S1"
_CLIENT_MARK = b"FLANE-C1"

# Region layout (LANE.md section 3), all little-endian:
#
#   0    magic "FERRYLN\0" | 8 version u32 = 1 | 12 header size u32 = 128 | 16 capacity C u64
#   24   ring 0 control offset u64 = 128 | 32 ring 1 control offset u64 = 384 + C | 40 zero
#   R+0  tail u64 | R+8 bells u64 | R+16 closed u32       (the ring's writer stores these)
#   R+128 head u64 | R+136 armed u32                       (the ring's reader stores these)
#   R+256 data, C bytes: stream position p at data[p mod C]
#
# Ring 0 carries client -> server, ring 1 server -> client.
_MAGIC = b"FERRYLN\x00"
_HEADER = 128
_CONTROL = 256
_TAIL, _BELLS, _CLOSED, _HEAD, _ARMED = 0, 8, 16, 128, 136

_BELL = b"\x00"
_RECORD = 0x44
_ANCILLARY = socket.CMSG_SPACE(253 * 4) if hasattr(socket, "CMSG_SPACE") else 0
# Plain ints: or-ing the enum members costs a microsecond per call.
_RECV_FLAGS = int(getattr(socket, "MSG_CMSG_CLOEXEC", 0))
_DONTWAIT = int(getattr(socket, "MSG_DONTWAIT", 0))
_BELL_FLAGS = _DONTWAIT | int(getattr(socket, "MSG_NOSIGNAL", 0))
_HEADER_STRUCT = struct.Struct("!i")


def _region_size(capacity):
    return 2 * _CONTROL + _HEADER + 2 * capacity


def _ring_offset(ring, capacity):
    return _HEADER if ring == 0 else _HEADER + _CONTROL + capacity


class LaneError(OSError):
    """A peer broke the lane protocol (a hostile or corrupt ring); the connection is closed."""


def _budget(value, name):
    if value < 0:
        raise ValueError("%s < 0: %r" % (name, value))
    if value > 1000000:
        # A peer that died is noticed once the budget ends: keep that under a second.
        raise ValueError("%s over 1 s: %r" % (name, value))
    return int(value * 1000)


def _check_ring_size(n):
    if not (MIN_RING_SIZE <= n <= MAX_RING_SIZE) or n & (n - 1):
        raise ValueError("ring_size %d is not a power of two from 4096 to 268435456" % n)
    return n


def _mark_plain(conn, refused=None):
    conn.lane = False
    conn.lane_refused = refused
    return conn


def _plain(sock, refused=None):
    return _mark_plain(_mpc.Connection(sock.detach()), refused)


def _close_fds(fds):
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _fds_of(ancdata):
    fds = []
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.extend(struct.unpack("%di" % (len(data) // 4), data[:len(data) - len(data) % 4]))
    return fds


class _Setup:
    """Blocking frame I/O on a raw socket for the handshake and the lane setup, with a deadline.

    Reads take exactly the bytes asked for: the socket must never be read past the last setup
    frame, whose successor may carry descriptors or lane items.
    """

    def __init__(self, sock, timeout):
        self.sock = sock
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.fds = []
        self.timeout_message = "handshake not done within %s s" % timeout

    def _timeout(self):
        if self.deadline is None:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(self.timeout_message)
        return left

    def recv_exact(self, n, ancillary=False):
        try:
            return self._recv_exact(n, ancillary)
        except socket.timeout:
            raise TimeoutError(self.timeout_message)

    def _recv_exact(self, n, ancillary):
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            self.sock.settimeout(self._timeout())
            if ancillary:
                k, anc, _flags, _addr = self.sock.recvmsg_into([view[got:]], _ANCILLARY,
                                                               _RECV_FLAGS)
                self.fds.extend(_fds_of(anc))
            else:
                k = self.sock.recv_into(view[got:])
            if k == 0:
                if got == 0:
                    raise EOFError
                raise OSError("got end of file during message")
            got += k
        return bytes(buf)

    def recv_frame(self, maxlength=256, ancillary=False):
        size, = struct.unpack("!i", self.recv_exact(4, ancillary))
        if size == -1:
            size, = struct.unpack("!Q", self.recv_exact(8, ancillary))
        if size < 0 or size > maxlength:
            raise OSError("bad message length")
        return self.recv_exact(size, ancillary) if size else b""

    def send_bytes(self, payload, fds=()):
        try:
            self._send_bytes(payload, fds)
        except socket.timeout:
            raise TimeoutError(self.timeout_message)

    def _send_bytes(self, payload, fds):
        frame = struct.pack("!i", len(payload)) + payload
        self.sock.settimeout(self._timeout())
        if fds:
            sent = self.sock.sendmsg([frame], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                                struct.pack("%di" % len(fds), *fds))])
            if sent < len(frame):
                self.sock.sendall(frame[sent:])
        else:
            self.sock.sendall(frame)

    def done(self):
        self.sock.settimeout(None)
        _close_fds(self.fds)
        self.fds = []


# The HMAC handshake of CPython 3.12's multiprocessing/connection.py (deliver_challenge,
# answer_challenge), which talks to every stock version (legacy 20-byte MD5 challenges included),
# plus the lane markers of LANE.md section 1.1 in the first 8 random bytes of a challenge.
_CHALLENGE = b"#CHALLENGE#"
_WELCOME = b"#WELCOME#"
_FAILURE = b"#FAILURE#"
_MESSAGE_LENGTH = 40
_ALLOWED_DIGESTS = frozenset({b"md5", b"sha256", b"sha384", b"sha3_256", b"sha3_384"})
_MAX_DIGEST_LEN = max(len(d) for d in _ALLOWED_DIGESTS)
_MD5ONLY_MESSAGE_LENGTH = 20
_MD5_DIGEST_LEN = 16
_LEGACY_LENGTHS = (_MD5ONLY_MESSAGE_LENGTH, _MD5_DIGEST_LEN)


def _get_digest_name_and_payload(message):
    if len(message) in _LEGACY_LENGTHS:
        return "", message
    if message.startswith(b"{"):
        curly = message.find(b"}", 1, _MAX_DIGEST_LEN + 2)
        if curly > 0:
            digest = message[1:curly]
            if digest in _ALLOWED_DIGESTS:
                return digest.decode("ascii"), message[curly + 1:]
    raise AuthenticationError("unsupported message length, missing digest prefix, "
                              "or unsupported digest: message=%r" % (message,))


def _create_response(authkey, message):
    digest_name = _get_digest_name_and_payload(message)[0]
    if not digest_name:
        try:
            return hmac.new(authkey, message, "md5").digest()
        except ValueError:
            # No MD5 here (FIPS): answer with SHA-256, which a legacy peer will refuse.
            digest_name = "sha256"
    response = hmac.new(authkey, message, digest_name).digest()
    return b"{" + digest_name.encode("ascii") + b"}" + response


def _verify_challenge(authkey, message, response):
    response_digest, response_mac = _get_digest_name_and_payload(response)
    response_digest = response_digest or "md5"
    try:
        expected = hmac.new(authkey, message, response_digest).digest()
    except ValueError:
        raise AuthenticationError("response_digest=%r unsupported" % (response_digest,))
    if len(expected) != len(response_mac):
        raise AuthenticationError("expected %r of length %d got %d"
                                  % (response_digest, len(expected), len(response_mac)))
    if not hmac.compare_digest(expected, response_mac):
        raise AuthenticationError("digest received was wrong")


def _deliver_challenge(io_, authkey, marker):
    """Challenges the peer; ``marker`` (8 bytes or None) replaces the first random bytes."""
    if not isinstance(authkey, bytes):
        raise ValueError("Authkey must be bytes, not {0!s}".format(type(authkey)))
    random = os.urandom(_MESSAGE_LENGTH)
    if marker:
        random = marker + random[len(marker):]
    message = b"{sha256}" + random
    io_.send_bytes(_CHALLENGE + message)
    response = io_.recv_frame(256)
    try:
        _verify_challenge(authkey, message, response)
    except AuthenticationError:
        io_.send_bytes(_FAILURE)
        raise
    io_.send_bytes(_WELCOME)


def _answer_challenge(io_, authkey, marker):
    """Answers the peer's challenge; returns whether it carried ``marker`` right after {sha256}."""
    if not isinstance(authkey, bytes):
        raise ValueError("Authkey must be bytes, not {0!s}".format(type(authkey)))
    message = io_.recv_frame(256)
    if not message.startswith(_CHALLENGE):
        raise AuthenticationError("Protocol error, expected challenge: message=%r" % (message,))
    message = message[len(_CHALLENGE):]
    if len(message) < _MD5ONLY_MESSAGE_LENGTH:
        raise AuthenticationError("challenge too short: %d bytes" % len(message))
    io_.send_bytes(_create_response(authkey, message))
    if io_.recv_frame(256) != _WELCOME:
        raise AuthenticationError("digest sent was rejected")
    return message[8:16] == marker


class _Region:
    """The mapped shared region, its two rings' control words and their data."""

    def __init__(self, mm, capacity):
        self.mm = mm
        self.capacity = capacity
        self.view = memoryview(mm)

    @classmethod
    def create(cls, capacity):
        """A fresh anonymous region (memfd), header written, counters zero: returns (region, fd)."""
        size = _region_size(capacity)
        flags = os.MFD_CLOEXEC | getattr(os, "MFD_ALLOW_SEALING", 0)
        fd = os.memfd_create("ferry-lane", flags)
        try:
            os.ftruncate(fd, size)
            mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
            try:
                import fcntl
                # Nobody may shrink the file under a mapping (SIGBUS): seal its size.
                fcntl.fcntl(fd, fcntl.F_ADD_SEALS,
                            fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)
            except (ImportError, AttributeError, OSError):
                pass
        except BaseException:
            os.close(fd)
            raise
        struct.pack_into("<8sIIQQQ", mm, 0, _MAGIC, 1, _HEADER, capacity,
                         _ring_offset(0, capacity), _ring_offset(1, capacity))
        return cls(mm, capacity), fd

    @classmethod
    def accept(cls, fd, offered_size):
        """Maps a region a client offered, or raises ValueError with the refusal reason."""
        capacity = (offered_size - _HEADER - 2 * _CONTROL) // 2
        if (capacity < MIN_RING_SIZE or capacity > MAX_RING_SIZE or capacity & (capacity - 1)
                or _region_size(capacity) != offered_size):
            raise ValueError("region size %d is not 640 + 2 * a power of two from 4096 to "
                             "268435456" % offered_size)
        st = os.fstat(fd)
        if st.st_size < offered_size:
            raise ValueError("region file has %d bytes < %d" % (st.st_size, offered_size))
        try:
            mm = mmap.mmap(fd, offered_size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        except (OSError, ValueError) as e:
            raise ValueError("cannot map the region: %s" % e)
        try:
            magic, version, header, cap, r0, r1 = struct.unpack_from("<8sIIQQQ", mm, 0)
            if magic != _MAGIC or version != 1 or header != _HEADER:
                raise ValueError("bad region header (magic %r, version %d, header size %d)"
                                 % (magic, version, header))
            if cap != capacity or r0 != _ring_offset(0, cap) or r1 != _ring_offset(1, cap):
                raise ValueError("region header (capacity %d, rings at %d and %d) disagrees with "
                                 "region size %d" % (cap, r0, r1, offered_size))
            for ring in (0, 1):
                r = _ring_offset(ring, cap)
                if any(mm[r:r + 20]) or any(mm[r + _HEAD:r + _ARMED + 4]):
                    raise ValueError("ring %d counters are not zero" % ring)
        except BaseException:
            mm.close()
            raise
        return cls(mm, capacity)

    def close(self):
        self.view.release()
        self.mm.close()


class LaneConnection:
    """A connection whose bytes travel through the shared-memory rings (``lane`` is True).

    It has the methods and properties of ``multiprocessing.connection.Connection``. ``fileno()``
    is an epoll descriptor that is readable when a message may be waiting, so the connection works
    with ``multiprocessing.connection.wait`` and selectors; it may be readable spuriously (then
    ``poll()`` says False). Sending from several threads is safe (each message stays whole), and
    so is receiving; ``close()`` from another thread wakes a blocked receive. A lane connection
    cannot be passed to another process, nor carry descriptors.
    """

    lane = True
    lane_refused = None

    def __init__(self, sock, region, read_ring, spin_us=0, yield_us=0):
        # Guards the reader's state: head, last tail, bells drained, the self-pipe flag.
        self._recv_lock = threading.Lock()
        # Guards the writer's state: tail, bells. Held for a whole message.
        self._send_lock = threading.Lock()
        # Guards the one move of _closed from False to True.
        self._state_lock = threading.Lock()
        self._closed = True  # until constructed
        self._readable = True
        self._writable = True
        self._sock = sock
        self._sockfd = sock.fileno()
        self._region = region
        self._spin_ns = _budget(spin_us, "spin_us")
        self._yield_ns = _budget(yield_us, "yield_us")
        c = region.capacity
        self._cap = c
        self._mask = c - 1
        mm = region.mm
        self._mm = mm
        self._view = region.view
        r = _ring_offset(read_ring, c)
        w = _ring_offset(1 - read_ring, c)
        self._rbase = r + _CONTROL
        self._wbase = w + _CONTROL
        # Each counter is one aligned 8- or 4-byte access (`.value` is a single mov): never torn.
        self._r_tail = _u64.from_buffer(mm, r + _TAIL)
        self._r_bells = _u64.from_buffer(mm, r + _BELLS)
        self._r_closed = _u32.from_buffer(mm, r + _CLOSED)
        self._r_head = _u64.from_buffer(mm, r + _HEAD)
        self._r_armed = _u32.from_buffer(mm, r + _ARMED)
        self._w_tail = _u64.from_buffer(mm, w + _TAIL)
        self._w_bells = _u64.from_buffer(mm, w + _BELLS)
        self._w_closed = _u32.from_buffer(mm, w + _CLOSED)
        self._w_head = _u64.from_buffer(mm, w + _HEAD)
        self._w_armed = _u32.from_buffer(mm, w + _ARMED)
        # Reader state (recv lock).
        self._head = 0
        self._last_tail = 0
        self._armed = False
        self._eof = False
        self._drained = 0
        self._count_bells = True
        self._record_left = 0
        self._pipe_full = False
        # Writer state (send lock).
        self._tail = 0
        self._last_head = 0
        self._bells = 0
        self._rpipe, self._wpipe = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._epoll = select.epoll()
        self._epoll.register(self._sockfd, select.EPOLLIN)
        self._epoll.register(self._rpipe, select.EPOLLIN)
        self._hup = select.poll()
        self._hup.register(self._sockfd, select.POLLRDHUP)
        self._readable_poll = select.poll()
        self._readable_poll.register(self._sockfd, select.POLLIN)
        self._closed = False
        # Arms, and makes fileno() readable if the peer already wrote (it may right after its
        # REPLY, before this side armed, so without a bell).
        self._leave()

    def __repr__(self):
        state = "closed" if self._closed else "ring %d bytes" % self._cap
        return "<ferry_shm.LaneConnection %s>" % state

    def __reduce__(self):
        raise TypeError("a shared-memory lane connection cannot be passed to another process")

    # Properties and checks, as multiprocessing.connection.Connection.

    @property
    def closed(self):
        """True if the connection is closed"""
        return self._closed

    @property
    def readable(self):
        """True if the connection is readable"""
        return self._readable

    @property
    def writable(self):
        """True if the connection is writable"""
        return self._writable

    def _check_closed(self):
        if self._closed:
            raise OSError("handle is closed")

    def _check_readable(self):
        if not self._readable:
            raise OSError("connection is write-only")

    def _check_writable(self):
        if not self._writable:
            raise OSError("connection is read-only")

    def fileno(self):
        """An epoll descriptor, readable when a message (or the end) may be waiting."""
        self._check_closed()
        return self._epoll.fileno()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        self.close()

    def __del__(self):
        if not getattr(self, "_closed", True):
            try:
                self.close()
            except Exception:
                pass  # at interpreter exit the modules it needs may be gone

    # Sending (LANE.md section 4.1).

    def send_bytes(self, buf, offset=0, size=None):
        """Send the bytes data from a bytes-like object"""
        if self._closed or not self._writable:
            self._check_closed()
            self._check_writable()
        if type(buf) is bytes and offset == 0 and size is None:
            self._send_message(buf)
            return
        m = memoryview(buf)
        if m.itemsize != 1 or m.ndim != 1 or not m.c_contiguous:
            m = m.cast("B") if m.c_contiguous else memoryview(m.tobytes())
        elif m.format != "B":
            m = m.cast("B")
        n = m.nbytes
        if offset < 0:
            raise ValueError("offset is negative")
        if n < offset:
            raise ValueError("buffer length < offset")
        if size is None:
            size = n - offset
        elif size < 0:
            raise ValueError("size is negative")
        elif offset + size > n:
            raise ValueError("buffer length < offset + size")
        self._send_message(m[offset:offset + size])

    def send(self, obj):
        """Send a (picklable) object"""
        self._check_closed()
        self._check_writable()
        self._send_message(memoryview(ForkingPickler.dumps(obj)).cast("B"))

    def _send_message(self, m):
        """Sends one frame; m is bytes or a one-dimensional memoryview of bytes."""
        n = len(m)
        with self._send_lock:
            self._check_closed()
            if self._r_closed.value or self._eof:
                raise BrokenPipeError(errno.EPIPE, "the peer closed the connection")
            tail = self._tail
            off = tail & self._mask
            cap = self._cap
            if off + 4 + n <= cap:
                if tail + 4 + n - self._last_head > cap:
                    self._load_head()
                if tail + 4 + n - self._last_head <= cap:
                    # The common case: the whole frame fits, unwrapped, in one publish.
                    a = self._wbase + off
                    _HEADER_STRUCT.pack_into(self._mm, a, n)
                    self._view[a + 4:a + 4 + n] = m
                    new_tail = tail + 4 + n
                    self._w_tail.value = new_tail
                    self._tail = new_tail
                    _fence()
                    if self._w_armed.value == 1 and self._w_head.value == tail:
                        self._ring()
                    return
            header = struct.pack("!i", n) if n <= 0x7fffffff else struct.pack("!iQ", -1, n)
            pending = self._put(header, tail)
            # Slices of a memoryview, unlike those of bytes, copy nothing.
            pending = self._put(memoryview(m), pending)
            self._publish(pending)

    def _put(self, src, pending):
        """Copies src into the ring after stream position ``pending``, publishing only when the
        ring is full; returns the new unpublished position."""
        n = len(src)
        done = 0
        cap = self._cap
        view = self._view
        base = self._wbase
        while done < n:
            free = cap - (pending - self._last_head)
            if free == 0:
                self._load_head()
                free = cap - (pending - self._last_head)
                if free == 0:
                    self._publish(pending)
                    self._wait_space(pending)
                    continue
            k = min(free, n - done)
            off = pending & self._mask
            first = min(k, cap - off)
            view[base + off:base + off + first] = src[done:done + first]
            if first < k:
                view[base:base + k - first] = src[done + first:done + k]
            done += k
            pending += k
        return pending

    def _load_head(self):
        h = self._w_head.value
        if h < self._last_head or h > self._tail:
            self._fail("head %d out of range (last %d, tail %d, capacity %d)"
                       % (h, self._last_head, self._tail, self._cap), holding_send=True)
        self._last_head = h

    def _publish(self, new_tail):
        old = self._tail
        if new_tail == old:
            return
        self._w_tail.value = new_tail
        self._tail = new_tail
        _fence()
        if self._w_armed.value == 1 and self._w_head.value == old:
            self._ring()

    def _ring(self):
        self._bells += 1
        self._w_bells.value = self._bells
        try:
            self._sock.send(_BELL, _BELL_FLAGS)
        except BlockingIOError:
            pass  # the socket is full of bells the reader has yet to drain: it will look
        except (BrokenPipeError, ConnectionResetError):
            raise BrokenPipeError(errno.EPIPE, "the peer closed the connection")

    def _wait_space(self, pending):
        """Waits until the reader frees space (LANE.md section 6), watching for close and the
        peer's end: spins and yields for the receive budgets, yields for at least about what a
        reader takes to drain the ring (100 us + 0.5 us a KiB), then sleeps a quarter of the time
        waited so far, up to 1 ms a time."""
        now = time.perf_counter_ns
        start = now()
        spin_end = start + self._spin_ns
        yield_end = max(spin_end + self._yield_ns, start + 100000 + self._cap // 2)
        hup_check = start + 1000000
        while True:
            self._load_head()
            if pending - self._last_head < self._cap:
                return
            if self._closed:
                raise OSError("handle is closed")
            if self._r_closed.value:
                raise BrokenPipeError(errno.EPIPE, "the peer closed the connection")
            t = now()
            if t < spin_end:
                continue
            if t < yield_end:
                os.sched_yield()
                if t >= hup_check:
                    if self._hup.poll(0):
                        raise BrokenPipeError(errno.EPIPE, "the peer closed the connection")
                    hup_check = t + 1000000
                continue
            if self._hup.poll(0):
                raise BrokenPipeError(errno.EPIPE, "the peer closed the connection")
            waited = (t - start) / 1e9
            if waited < 0.004:
                time.sleep(waited / 4)
            elif self._hup.poll(1):
                raise BrokenPipeError(errno.EPIPE, "the peer closed the connection")

    # Receiving (LANE.md sections 4.2, 5).

    def recv_bytes(self, maxlength=None):
        """Receive bytes data as a bytes object."""
        if self._closed or not self._readable:
            self._check_closed()
            self._check_readable()
        if maxlength is not None and maxlength < 0:
            raise ValueError("negative maxlength")
        with self._recv_lock:
            self._check_closed()
            try:
                data = self._take_whole(maxlength)
                if data is not None:
                    return data
                size = self._take_header()
                if maxlength is not None and size > maxlength:
                    self._readable = False
                    raise OSError("bad message length")
                return self._take_bytes(size)
            finally:
                self._leave()

    def recv_bytes_into(self, buf, offset=0):
        """Receive bytes data into a writeable bytes-like object.
        Return the number of bytes read."""
        self._check_closed()
        self._check_readable()
        with memoryview(buf) as m:
            bytesize = m.itemsize * len(m)
            if offset < 0:
                raise ValueError("negative offset")
            elif offset > bytesize:
                raise ValueError("offset too large")
            with self._recv_lock:
                self._check_closed()
                try:
                    size = self._take_header()
                    if bytesize < offset + size:
                        raise BufferTooShort(self._take_bytes(size))
                    with m.cast("B") as target:
                        self._take_into(target[offset:offset + size], False)
                    return size
                finally:
                    self._leave()

    def recv(self):
        """Receive a (picklable) object"""
        self._check_closed()
        self._check_readable()
        with self._recv_lock:
            self._check_closed()
            try:
                data = self._take_whole(None)
                if data is None:
                    data = self._take_bytes(self._take_header())
            finally:
                self._leave()
        return ForkingPickler.loads(data)

    def poll(self, timeout=0.0):
        """Whether there is any input available to be read"""
        self._check_closed()
        self._check_readable()
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0)
        with self._recv_lock:
            self._check_closed()
            try:
                if self._available():
                    return True
                return self._await(0, deadline) > 0 or self._ended()
            finally:
                self._leave()

    def _available(self):
        t = self._r_tail.value
        if t != self._last_tail:
            if t < self._last_tail or t < self._head or t - self._head > self._cap:
                self._fail("tail %d out of range (head %d, capacity %d)"
                           % (t, self._head, self._cap), holding_recv=True)
            self._last_tail = t
        return t - self._head

    def _take_whole(self, maxlength):
        """A whole message when it lies unwrapped in the ring (waiting for its first bytes), else
        None with nothing consumed."""
        h = self._head
        t = self._r_tail.value
        if t == h:
            avail = self._await(0, None)
        elif t != self._last_tail:
            if t < self._last_tail or t < h or t - h > self._cap:
                self._fail("tail %d out of range (head %d, capacity %d)" % (t, h, self._cap),
                           holding_recv=True)
            self._last_tail = t
            avail = t - h
        else:
            avail = t - h
        off = h & self._mask
        cap = self._cap
        if avail < 4 or off + 4 > cap:
            return None
        a = self._rbase + off + 4
        size, = _HEADER_STRUCT.unpack_from(self._mm, a - 4)
        if (size < 0 or size > avail - 4 or off + 4 + size > cap
                or (maxlength is not None and size > maxlength)):
            return None
        data = self._mm[a:a + size]
        self._head = h = h + 4 + size
        self._r_head.value = h
        return data

    def _ended(self):
        return self._eof or self._r_closed.value != 0

    def _take_header(self):
        avail = self._available()
        off = self._head & self._mask
        if avail >= 4 and off <= self._cap - 4:
            size, = struct.unpack_from("!i", self._mm, self._rbase + off)
            self._consume(4)
        else:
            size, = struct.unpack("!i", self._take_bytes(4))
        if size < 0:
            if size != -1:
                self._fail("negative message length %d" % size, holding_recv=True)
            size, = struct.unpack("!Q", self._take_bytes(8))
        return size

    def _consume(self, n):
        self._head += n
        self._r_head.value = self._head

    def _take_bytes(self, n):
        """The next n bytes of the stream, waiting for them (EOF as a stock socket read)."""
        if n == 0:
            return b""
        avail = self._available()
        off = self._head & self._mask
        if avail >= n and off + n <= self._cap:
            a = self._rbase + off
            data = self._mm[a:a + n]
            self._consume(n)
            return data
        # Never allocate from a length alone: the buffer grows with the bytes that arrive. (A
        # BytesIO also beats bytes(bytearray(n)) by far: two fresh megabytes cost page faults.)
        out = io.BytesIO()
        write = out.write
        got = 0
        cap = self._cap
        base = self._rbase
        view = self._view
        while got < n:
            if avail == 0:
                avail = self._await(0, None, True)
                if avail == 0:
                    if got == 0:
                        raise EOFError
                    raise OSError("got end of file during message")
            k = min(avail, n - got)
            off = self._head & self._mask
            first = min(k, cap - off)
            write(view[base + off:base + off + first])
            if first < k:
                write(view[base:base + k - first])
            got += k
            self._consume(k)
            avail = self._available()
        return out.getvalue()

    def _take_into(self, target, started):
        """Fills target from the ring, consuming as the bytes come so a writer can stream."""
        n = len(target)
        got = 0
        cap = self._cap
        base = self._rbase
        view = self._view
        while got < n:
            avail = self._available()
            if avail == 0:
                avail = self._await(0, None, True)
                if avail == 0:
                    if got == 0 and not started:
                        raise EOFError
                    raise OSError("got end of file during message")
            k = min(avail, n - got)
            off = self._head & self._mask
            first = min(k, cap - off)
            target[got:got + first] = view[base + off:base + off + first]
            if first < k:
                target[got + first:got + k] = view[base:base + k - first]
            got += k
            self._consume(k)

    def _await(self, have, deadline, streaming=False):
        """Waits until the ring holds more than ``have`` bytes; returns what it holds, which is
        ``have`` at the end of the stream or at the deadline (LANE.md section 5.4). In the middle
        of a message (``streaming``) the rest is on its way: it yields for at least 100 us before
        it sleeps, as a writer waiting for room does."""
        if (self._spin_ns or self._yield_ns or streaming) and (deadline is None
                                                               or deadline > time.monotonic()):
            avail = self._spin(have, deadline, 100000 if streaming else 0)
            if avail > have:
                return avail
        while True:
            self._arm()
            avail = self._available()
            if avail > have:
                return avail
            if self._closed:
                raise OSError("handle is closed")
            if self._ended():
                return self._available()
            if deadline is None:
                self._drain(block=True)
                # A bell usually means bytes: look before fencing again.
                avail = self._available()
                if avail > have:
                    return avail
            else:
                self._drain(block=False)
                _fence()
                avail = self._available()
                if avail > have or self._ended():
                    return avail
                left = deadline - time.monotonic()
                if left <= 0:
                    return avail
                self._readable_poll.poll(left * 1000)

    def _spin(self, have, deadline, min_yield_ns=0):
        """Spins, then yields, on tail with armed = 0 so that the writer skips the bell."""
        self._r_armed.value = 0
        self._armed = False
        now = time.perf_counter_ns
        start = now()
        spin_end = start + self._spin_ns
        end = spin_end + max(self._yield_ns, min_yield_ns)
        if deadline is not None:
            end = min(end, start + int((deadline - time.monotonic()) * 1e9))
        hup_check = start + 1000000
        yield_at = start + _SPIN_SLICE_NS
        tail = self._r_tail
        last = self._last_tail
        while True:
            for _ in range(64):
                if tail.value != last:
                    return self._available()
            if self._closed or self._r_closed.value:
                return self._available()
            t = now()
            if t >= end:
                return self._available()
            if t >= hup_check:
                # A peer killed mid-spin never sets closed: its socket says so.
                if self._hup.poll(0):
                    return self._available()
                hup_check = t + 1000000
            if t >= spin_end or t >= yield_at:
                # Even while spinning, give the core away now and then: a peer (or its writer)
                # sharing this core would otherwise wait for the scheduler's time slice.
                os.sched_yield()
                yield_at = t + _SPIN_SLICE_NS

    def _arm(self):
        """armed = 1 then a full fence: after this, a writer that publishes into the empty ring
        sees armed and rings (LANE.md section 5.2)."""
        if not self._armed:
            self._r_armed.value = 1
            self._armed = True
        _fence()

    def _drain(self, block):
        """Reads the socket's items: bells, descriptor records (their descriptors closed) and EOF.
        With block, waits for at least one item."""
        flags = 0 if block else _DONTWAIT
        while True:
            try:
                # No room for ancillary data: the kernel drops (closes) any descriptors a Ferry
                # peer attached to a record instead of installing them here.
                data = self._sock.recv(4096, flags)
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionResetError:
                data = b""
            if not data:
                self._eof = True
                return
            if self._record_left == 0 and not data.strip(_BELL):
                self._drained += len(data)
            else:
                self._items(data)
            if len(data) < 4096:
                return
            flags = _DONTWAIT

    def _items(self, data):
        for i, b in enumerate(data):
            if self._record_left:
                self._record_left -= 1
            elif b == 0:
                self._drained += 1
            elif b == _RECORD:
                self._record_left = 8
            else:
                self._fail("unexpected byte 0x%02x on the socket" % b, holding_recv=True)

    def _leave(self):
        """Leaves a receive with fileno() readable exactly when the ring has bytes or the stream
        ended, give or take a late bell (LANE.md section 5.5)."""
        if self._closed:
            return
        try:
            if not self._armed:
                self._r_armed.value = 1
                self._armed = True
            _fence()
            has = self._r_tail.value != self._head or self._eof or self._r_closed.value
            if not has and self._count_bells and self._r_bells.value <= self._drained:
                # The usual way out: nothing to read, no bell to drain.
                if self._pipe_full:
                    os.read(self._rpipe, 16)
                    self._pipe_full = False
                return
            if not has and self._bells_pending():
                self._drain(block=False)
                if self._count_bells and self._bells_pending():
                    # A bell counted but not yet sent: wait it out briefly so it does not make
                    # fileno() readable later for nothing (a writer descheduled longer than
                    # that leaves a spurious readiness, which poll() sorts out).
                    self._readable_poll.poll(1)
                    self._drain(block=False)
                _fence()
                has = self._r_tail.value != self._head or self._ended()
            if has and not self._pipe_full:
                os.write(self._wpipe, b"x")
                self._pipe_full = True
            elif not has and self._pipe_full:
                os.read(self._rpipe, 16)
                self._pipe_full = False
        except OSError:
            if not self._closed:
                raise

    def _bells_pending(self):
        if not self._count_bells:
            return True
        bells = self._r_bells.value
        if bells - self._drained > (1 << 20):
            # A count no writer reaches: the peer does not count; drain on every leave.
            self._count_bells = False
            return True
        # Fewer counted than drained is normal for a moment: Ferry counts a probe bell (sent
        # while it waits for room, LANE.md section 6) after sending it.
        return bells > self._drained

    # Closing (LANE.md section 6).

    def _fail(self, what, holding_recv=False, holding_send=False):
        self._close(holding_recv, holding_send)
        raise LaneError("shared-memory lane: " + what)

    def close(self):
        """Close the connection: the peer reads what was sent, then gets EOFError."""
        self._close(False, False)

    def _close(self, holding_recv, holding_send):
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._w_closed.value = 1
        except ValueError:
            pass
        try:
            # Wakes this side's own blocked readers and tells the peer.
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        # Other threads leave their waits within a millisecond or so; only then may the mapping go.
        recv_ok = holding_recv or self._recv_lock.acquire(timeout=5)
        send_ok = holding_send or self._send_lock.acquire(timeout=5)
        try:
            self._sock.close()
            self._epoll.close()
            os.close(self._rpipe)
            os.close(self._wpipe)
            if recv_ok and send_ok:
                self._release_region()
        finally:
            if recv_ok and not holding_recv:
                self._recv_lock.release()
            if send_ok and not holding_send:
                self._send_lock.release()

    def _release_region(self):
        for name in ("_r_tail", "_r_bells", "_r_closed", "_r_head", "_r_armed",
                     "_w_tail", "_w_bells", "_w_closed", "_w_head", "_w_armed"):
            setattr(self, name, None)
        self._view = None
        self._mm = None
        try:
            self._region.close()
        except BufferError:
            pass  # a memoryview handed out elsewhere still holds it: the collector unmaps it


def _offer_or_plain(sock, io_, capacity, spin_us, yield_us):
    """Client side of LANE.md section 2: offers a region, returns a lane or a plain connection."""
    region, fd = _Region.create(capacity)
    try:
        io_.send_bytes(_OFFER_HEAD[4:] + struct.pack(">Q", _region_size(capacity)), [fd])
    except BaseException:
        region.close()
        raise
    finally:
        os.close(fd)
    io_.timeout_message = "shared-memory lane offer not answered"
    try:
        try:
            size, = struct.unpack("!i", io_.recv_exact(4))
            if size < 16 or size > 216:
                raise LaneError("shared-memory lane: expected a reply, got a %d-byte frame" % size)
            reply = io_.recv_exact(size)
        except EOFError:
            raise LaneError("shared-memory lane: the listener closed the connection instead of "
                            "answering the offer")
        io_.done()
        if reply[:16] == _REPLY_ACCEPT and size == 16:
            conn = LaneConnection(sock, region, 1, spin_us, yield_us)
            region = None
            return conn
        if reply[:16] == _REPLY_REFUSE:
            region.close()
            region = None
            return _plain(sock, reply[16:].decode("utf-8", "replace"))
        raise LaneError("shared-memory lane: expected a reply, got %r" % reply[:32])
    finally:
        if region is not None:
            region.close()


def _serve_offer(sock, io_, spin_us, yield_us):
    """Server side of LANE.md section 2.2: reads the OFFER and answers it."""
    frame = io_.recv_exact(_OFFER_FRAME_LEN, ancillary=True)
    if frame[:20] != _OFFER_HEAD:
        _close_fds(io_.fds)
        raise LaneError("shared-memory lane: expected an offer, got %r" % frame[:20])
    size, = struct.unpack(">Q", frame[20:])
    fds, io_.fds = io_.fds, []
    region = None
    try:
        if not lane_supported:
            raise ValueError(unsupported_reason)
        if len(fds) != 1:
            raise ValueError("expected one descriptor with the offer, got %d" % len(fds))
        region = _Region.accept(fds[0], size)
    except ValueError as e:
        reason = str(e).encode("utf-8")[:200]
        io_.send_bytes(_REPLY_REFUSE + reason)
        io_.done()
        return _plain(sock, str(e))
    finally:
        _close_fds(fds)
    try:
        conn = LaneConnection(sock, region, 0, spin_us, yield_us)
    except BaseException:
        region.close()
        raise
    try:
        io_.send_bytes(_REPLY_ACCEPT)
        io_.done()
    except BaseException:
        conn.close()
        raise
    return conn


def _offer_waiting(sock, handshake_timeout):
    """Whether a keyless client is sending an OFFER; consumes nothing. Waits for its first bytes
    for the offer window, then, while they look like an OFFER, for its unambiguous first 18 bytes
    (Ferry sends those at once and the rest with the descriptor) up to the handshake timeout."""
    start = time.monotonic()
    deadline = start + OFFER_WINDOW
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not poller.poll(left * 1000):
            return False
        try:
            data = sock.recv(18, int(socket.MSG_PEEK) | _DONTWAIT)
        except (BlockingIOError, InterruptedError):
            continue
        if not data or not _OFFER_HEAD.startswith(data):
            return False
        if len(data) == 18:
            return True
        if handshake_timeout is None:
            deadline = float("inf")
        else:
            deadline = max(deadline, start + handshake_timeout)
        time.sleep(0.001)  # a partial offer: readable at once, so poll cannot wait for the rest


def _listener_authenticates(authkey):
    # Stock Listener.accept: `if self._authkey:` up to 3.12, `is not None` from 3.13 (b'').
    if sys.version_info >= (3, 13):
        return authkey is not None
    return bool(authkey)


def Client(address, family=None, authkey=None, *, spin_us=0, yield_us=0,
           ring_size=DEFAULT_RING_SIZE, handshake_timeout=DEFAULT_HANDSHAKE_TIMEOUT, lane=True):
    """Returns a connection to the address of a Listener. On a Unix socket it asks for a lane:
    with an authkey, only if the listener's challenge announces lanes (a stock listener gets a
    stock client); without one, blindly as its first message, so point a keyless client only at
    a lane listener (a stock one never answers: TimeoutError after handshake_timeout). The
    connection's ``lane`` attribute says whether it got one.

    spin_us, yield_us: how long a receive spins, then yields, on an empty ring before it sleeps
    (0, the default: it sleeps at once and costs nothing idle); at most 1 s each.
    ring_size: bytes per ring, a power of two from 4096 to 256 MiB.
    handshake_timeout: seconds for the handshake and the lane setup (None: forever).
    lane=False gives exactly multiprocessing.connection.Client.
    """
    family = family or _mpc.address_type(address)
    _mpc._validate_family(family)
    if authkey is not None and not isinstance(authkey, bytes):
        raise TypeError("authkey should be a byte string")
    _budget(spin_us, "spin_us")
    _budget(yield_us, "yield_us")
    _check_ring_size(ring_size)
    if family != "AF_UNIX" or not lane:
        return _mark_plain(_mpc.Client(address, family, authkey))
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.setblocking(True)
        sock.connect(address)
        io_ = _Setup(sock, handshake_timeout)
        want = lane_supported
        if authkey is not None:
            offered = _answer_challenge(io_, authkey, _SERVER_MARK)
            want = want and offered
            _deliver_challenge(io_, authkey, _CLIENT_MARK if want else None)
        if not want:
            io_.done()
            return _plain(sock)
        return _offer_or_plain(sock, io_, ring_size, spin_us, yield_us)
    except BaseException:
        sock.close()
        raise


class Listener:
    """A listener like multiprocessing.connection.Listener that gives lanes to the clients that
    ask (ferry_shm, or Ferry with a SharedMemoryLane option) and plain connections to the others.

    Without an authkey, accept() waits up to 200 ms for a lane offer before it serves a stock
    client (one that waits for the server to speak first is accepted that much later).
    spin_us and yield_us apply to the lane connections it accepts; see Client.
    """

    def __init__(self, address=None, family=None, backlog=1, authkey=None, *, spin_us=0,
                 yield_us=0, handshake_timeout=DEFAULT_HANDSHAKE_TIMEOUT, lane=True):
        family = family or (address and _mpc.address_type(address)) or _mpc.default_family
        address = address or _mpc.arbitrary_address(family)
        _mpc._validate_family(family)
        self._spin_us = spin_us
        self._yield_us = yield_us
        _budget(spin_us, "spin_us")
        _budget(yield_us, "yield_us")
        self._handshake_timeout = handshake_timeout
        self._stock = None
        self._sock = None
        self._unlink = None
        if family != "AF_UNIX" or not lane:
            self._stock = _mpc.Listener(address, family, backlog, authkey)
            return
        if authkey is not None and not isinstance(authkey, bytes):
            raise TypeError("authkey should be a byte string")
        self._authkey = authkey
        sock = socket.socket(socket.AF_UNIX)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setblocking(True)
            sock.bind(address)
            sock.listen(backlog)
            self._address = sock.getsockname()
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self._last_accepted = None
        abstract = address[:1] in ("\0", b"\0")
        if not abstract:
            self._unlink = util.Finalize(self, os.unlink, args=(address,), exitpriority=0)

    def accept(self):
        """Accepts a connection: a LaneConnection when the client asked for a lane, else a
        multiprocessing.connection.Connection. Handshake errors propagate, as in the stock
        Listener; the listener stays usable."""
        if self._stock is not None:
            return _mark_plain(self._stock.accept())
        if self._sock is None:
            raise OSError("listener is closed")
        s, self._last_accepted = self._sock.accept()
        try:
            s.setblocking(True)
            io_ = _Setup(s, self._handshake_timeout)
            if _listener_authenticates(self._authkey):
                _deliver_challenge(io_, self._authkey, _SERVER_MARK if lane_supported else None)
                wanted = _answer_challenge(io_, self._authkey, _CLIENT_MARK)
                if wanted and lane_supported:
                    return _serve_offer(s, io_, self._spin_us, self._yield_us)
            elif _offer_waiting(s, self._handshake_timeout):
                # Also where lanes are unsupported: it refuses, saying why.
                return _serve_offer(s, io_, self._spin_us, self._yield_us)
            io_.done()
            return _plain(s)
        except BaseException:
            s.close()
            raise

    def close(self):
        """Closes the listening socket (and removes its file)."""
        if self._stock is not None:
            self._stock.close()
            return
        sock = self._sock
        if sock is not None:
            self._sock = None
            try:
                sock.close()
            finally:
                unlink = self._unlink
                if unlink is not None:
                    self._unlink = None
                    unlink()

    @property
    def address(self):
        return self._stock.address if self._stock is not None else self._address

    @property
    def last_accepted(self):
        return self._stock.last_accepted if self._stock is not None else self._last_accepted

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        self.close()
