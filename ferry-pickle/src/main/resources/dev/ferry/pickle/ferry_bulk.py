# Bulk messages between Python and Ferry: large buffers cross by mapping, not copying.
# Stdlib only. CPython 3.8+ on Linux; older versions (2.7 included) fall back to plain pickles.
#
#     import ferry_bulk
#     ferry_bulk.send(conn, {"x": numpy_array, "raw": big_bytes})   # conn: a Connection
#     reply = ferry_bulk.recv(conn)                                   # over a Unix socket
#
# A bulk message is an ordinary multiprocessing frame (4-byte big-endian length, or -1 and an
# 8-byte length) whose payload is
#
#     b"\0FERRYB1"  n:u32le  flags:u32le (0)  n * (offset:u64le, length:u64le)  pickle (protocol 5)
#
# with n descriptors attached to the frame's first byte (SCM_RIGHTS), one per out-of-band buffer,
# in table order. Buffers of at least THRESHOLD bytes (numpy arrays, bytes, bytearray, memoryview)
# go out of band, each copied once into a new memfd that is then sealed against shrinking, growing
# and writing, unless it lies in a SharedBuffer (below), whose memory goes as it is; smaller ones
# stay in the pickle. A message with no large buffer is a plain pickle frame. recv() takes both.
#
# Received out-of-band buffers are read-only: a numpy array is a read-only view of the mapped
# pages, and a bytes-like arrives as a read-only memoryview. Memory sealed against shrinking is
# mapped; memory that is not (what a Java 17 sender makes: it cannot seal) is copied out with
# os.preadv instead, because a peer that shrank mapped memory would kill this process with
# SIGBUS. recv(conn, map_unsealed=True) maps it anyway, for peers you trust. Every received
# descriptor is closed before recv returns; a mapping is released when its last view is freed.
import os
import pickle
import socket
import struct
import sys
import weakref

THRESHOLD = 1 << 20
# The most descriptors one message may carry: what a Java receiver can take (junixsocket reads
# with room for 60). Receiving, room is made for Linux's own limit, SCM_MAX_FD.
MAX_BUFFERS = 60
_SCM_MAX_FD = 253
MAGIC = b"\0FERRYB1"

_HEADER = struct.Struct("<8sII")
_ENTRY = struct.Struct("<QQ")
# fcntl's names for these arrived in 3.8 or 3.9 depending on the build; the numbers are Linux's.
_F_ADD_SEALS, _F_GET_SEALS = 1033, 1034
_F_SEAL_SEAL, _F_SEAL_SHRINK, _F_SEAL_GROW, _F_SEAL_WRITE = 1, 2, 4, 8
_SEALS = _F_SEAL_SHRINK | _F_SEAL_GROW | _F_SEAL_WRITE

SUPPORTED = (sys.version_info >= (3, 8) and hasattr(os, "memfd_create")
             and hasattr(socket, "CMSG_SPACE"))

if SUPPORTED:
    import array
    import fcntl
    import mmap
    import stat

    class _Pickler(pickle._Pickler):
        # The pure-Python pickler: the C one never asks reducer_override about bytes.
        def __init__(self, file, threshold, buffers):
            # A closure, not a bound method: a pickler that referred to itself would leave a
            # cycle of buffer exports for the collector, which CPython handles badly at exit.
            def out_of_band(buffer):
                with buffer.raw() as m:
                    if m.nbytes < threshold:
                        return True
                buffers.append(buffer)
                return False
            pickle._Pickler.__init__(self, file, protocol=5, buffer_callback=out_of_band)
            self._threshold = threshold

        def reducer_override(self, obj):
            if type(obj) in (bytes, bytearray, memoryview):
                with memoryview(obj) as m:
                    if m.nbytes >= self._threshold and m.contiguous:
                        return memoryview, (pickle.PickleBuffer(obj),)
                    if type(obj) is memoryview:
                        # pickle refuses a memoryview: its bytes go (in band, or out of band
                        # if large but strided), rebuilt as a read-only memoryview as above
                        return memoryview, (m.tobytes(),)
            return NotImplemented


# start address -> SharedBuffer: memory send() passes on without a copy; weak, so that one
# nobody closed is still freed (and its descriptor closed) with its last reference
_REGIONS = weakref.WeakValueDictionary()


class SharedBuffer(object):
    """Shared memory to fill in place and send with no copy (Python 3.8+ on Linux).

        shared = ferry_bulk.SharedBuffer(8 * n)
        a = numpy.frombuffer(shared.buffer, dtype=numpy.float64)   # fill a in place
        ferry_bulk.send(conn, a)     # a's bytes travel as this memory itself

    A memfd sealed against shrinking and growing (its size is final), mapped for writing. It is
    not sealed against writing: do not write to it while a receiver may be reading it. close()
    closes the descriptor; the mapping goes once this object and every view of it are freed.
    """

    def __init__(self, nbytes):
        if not SUPPORTED:
            raise BulkError("shared buffers need Python 3.8+ on Linux")
        if nbytes < 1:
            raise ValueError("nbytes < 1: %d" % nbytes)
        self.nbytes = nbytes
        self.fd = os.memfd_create("ferry-bulk", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        try:
            os.ftruncate(self.fd, nbytes)
            fcntl.fcntl(self.fd, _F_ADD_SEALS, _F_SEAL_SHRINK | _F_SEAL_GROW | _F_SEAL_SEAL)
            self._mmap = mmap.mmap(self.fd, nbytes, mmap.MAP_SHARED,
                                   mmap.PROT_READ | mmap.PROT_WRITE)
        except BaseException:
            os.close(self.fd)
            raise
        self.buffer = memoryview(self._mmap)
        self._start = _address(self.buffer)
        _REGIONS[self._start] = self

    def close(self):
        if self.fd >= 0:
            _REGIONS.pop(self._start, None)
            os.close(self.fd)
            self.fd = -1

    def __del__(self):
        if getattr(self, "fd", -1) >= 0:
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _address(m):
    """Where a writable buffer's bytes start; None for a read-only one."""
    if m.readonly:
        return None
    import ctypes
    return ctypes.addressof(ctypes.c_char.from_buffer(m))


def _region(m):
    """(fd, offset) of the SharedBuffer that m lies in, or None."""
    if not _REGIONS:
        return None
    start = _address(m)
    if start is None:
        return None
    for region in list(_REGIONS.values()):
        offset = start - region._start
        if region.fd >= 0 and 0 <= offset and offset + m.nbytes <= region.nbytes:
            return region.fd, offset
    return None


class BulkError(RuntimeError):
    """A bulk message that fails a check. The whole frame was read: the connection is in step."""


def send(conn, obj, threshold=THRESHOLD):
    """Sends obj; its buffers of at least threshold bytes go out of band (Python 3.8+)."""
    if not SUPPORTED:
        conn.send(obj)
        return
    import io
    buffers = []
    fds = []
    copies = []
    try:
        out = io.BytesIO()
        pickler = _Pickler(out, threshold, buffers)
        pickler.dump(obj)
        pickler.clear_memo()
        del pickler
        data = out.getbuffer()  # no copy: the frame is joined once, below
        if not buffers:
            conn.send_bytes(data)
            return
        if len(buffers) > MAX_BUFFERS:
            raise BulkError("bulk buffers %d > limit %d (descriptors a Java receiver takes with "
                            "one message)" % (len(buffers), MAX_BUFFERS))
        table = []
        for buffer in buffers:
            with buffer.raw() as m:
                shared = _region(m)
                if shared is None:
                    copies.append(_sealed_copy(m))
                    shared = copies[-1], 0
                fds.append(shared[0])
                table.append(_ENTRY.pack(shared[1], m.nbytes))
        _send_frame(conn, [_HEADER.pack(MAGIC, len(fds), 0)] + table + [data], fds)
    finally:
        # Also when pickling failed: an export left behind would keep a bytearray from resizing.
        for fd in copies:
            os.close(fd)
        for buffer in buffers:
            buffer.release()


def _sealed_copy(m):
    fd = os.memfd_create("ferry-bulk", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        os.ftruncate(fd, m.nbytes)
        done = 0
        while done < m.nbytes:
            done += os.pwrite(fd, m[done:], done)
        fcntl.fcntl(fd, _F_ADD_SEALS, _SEALS | _F_SEAL_SEAL)
        return fd
    except BaseException:
        os.close(fd)
        raise


def _send_frame(conn, parts, fds):
    """Sends the payload made of parts (bytes-like) as one frame, fds attached to its first byte."""
    n = sum(len(part) for part in parts)
    header = struct.pack("!i", n) if n <= 0x7fffffff else struct.pack("!iQ", -1, n)
    frame = memoryview(b"".join([header] + parts))
    sock = socket.socket(fileno=conn.fileno())
    try:
        sent = sock.sendmsg([frame], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                       array.array("i", fds))])
        if sent < len(frame):
            sock.sendall(frame[sent:])
    finally:
        sock.detach()


def recv(conn, map_unsealed=False, maxlength=None):
    """Receives one message, bulk or plain pickle. See the module comment for what maps."""
    if not SUPPORTED:
        payload = conn.recv_bytes(maxlength) if maxlength else conn.recv_bytes()
        if payload[:len(MAGIC)] == MAGIC:
            raise BulkError("bulk messages need Python 3.8+ on Linux")
        return pickle.loads(payload)
    sock = socket.socket(fileno=conn.fileno())
    fds = []
    try:
        payload = _read_frame(sock, fds, maxlength)
    except BaseException:
        _close_all(fds)
        raise
    finally:
        sock.detach()
    try:
        if payload[:len(MAGIC)] != MAGIC:
            if fds:
                raise BulkError("plain message came with %d descriptors" % len(fds))
            return pickle.loads(payload)
        views, start = _views(payload, fds, map_unsealed, maxlength)
        return pickle.loads(memoryview(payload)[start:], buffers=views)
    finally:
        _close_all(fds)


def _close_all(fds):
    while fds:
        os.close(fds.pop())


def _read_frame(sock, fds, maxlength):
    space = socket.CMSG_SPACE(_SCM_MAX_FD * array.array("i").itemsize)
    data, ancillary, flags, _ = sock.recvmsg(4, space)
    for level, kind, cdata in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            got = array.array("i")
            got.frombytes(cdata[:len(cdata) - len(cdata) % got.itemsize])
            fds.extend(got)
    if not data:
        raise EOFError
    # Refused only once the frame is read: the next recv must start at the next frame.
    truncated = flags & getattr(socket, "MSG_CTRUNC", 8)
    header = data + _read_exact(sock, 4 - len(data))
    size, = struct.unpack("!i", header)
    if size == -1:
        size, = struct.unpack("!Q", _read_exact(sock, 8))
    elif size < 0:
        raise BulkError("negative message length %d" % size)
    if maxlength is not None and size > maxlength:
        # Not a BulkError: the frame is left unread, so the stream is out of step, as after
        # the stock recv_bytes refuses one.
        raise OSError("bad message length: %d > maxlength %d" % (size, maxlength))
    payload = _read_exact(sock, size)
    if truncated:
        raise BulkError("more descriptors came with one message than the %d room was made for"
                        % _SCM_MAX_FD)
    return payload


def _read_exact(sock, n):
    buf = bytearray(n)
    view = memoryview(buf)
    done = 0
    while done < n:
        got = sock.recv_into(view[done:])
        if not got:
            raise EOFError("end of stream inside a message")
        done += got
    return bytes(buf)


def _views(payload, fds, map_unsealed, maxlength):
    if len(payload) < _HEADER.size:
        raise BulkError("bulk message of %d bytes: header needs 16" % len(payload))
    _, n, flags = _HEADER.unpack_from(payload)
    if n > MAX_BUFFERS:
        raise BulkError("bulk buffers %d > limit %d" % (n, MAX_BUFFERS))
    if flags:
        raise BulkError("bulk flags not 0: %d" % flags)
    start = _HEADER.size + n * _ENTRY.size
    if len(payload) < start:
        raise BulkError("bulk message of %d bytes cannot hold a table of %d buffers"
                        % (len(payload), n))
    if len(fds) != n:
        raise BulkError("bulk message names %d buffers but came with %d descriptors"
                        % (n, len(fds)))
    table = [_ENTRY.unpack_from(payload, _HEADER.size + i * _ENTRY.size) for i in range(n)]
    # maxlength bounds the message with its buffers: a copy of unsealed memory costs their size
    total = len(payload) + sum(length for _, length in table)
    if maxlength is not None and total > maxlength:
        raise BulkError("bulk message of %d bytes with its buffers > maxlength %d"
                        % (total, maxlength))
    views = []
    for i, (offset, length) in enumerate(table):
        views.append(_view(i, fds[i], offset, length, map_unsealed))
    return views, start


def _map(fd, length, offset):
    # Before 3.13 an mmap keeps a duplicate of its descriptor for as long as it lives, so each
    # received buffer still held costs one descriptor; trackfd=False maps without one.
    if sys.version_info >= (3, 13):
        return mmap.mmap(fd, length, mmap.MAP_SHARED, mmap.PROT_READ, offset=offset,
                         trackfd=False)
    return mmap.mmap(fd, length, mmap.MAP_SHARED, mmap.PROT_READ, offset=offset)


def _describe(fd):
    """What a descriptor is, as /proc names it (a path, pipe:[N], socket:[N]), as Java says."""
    try:
        return os.readlink("/proc/self/fd/%d" % fd)
    except OSError:
        return "?"


def _view(i, fd, offset, length, map_unsealed):
    st = os.fstat(fd)
    try:
        seals = fcntl.fcntl(fd, _F_GET_SEALS)
    except OSError:
        seals = None  # not shmem at all: a disk file, a pipe, a socket
    if not stat.S_ISREG(st.st_mode) or seals is None:
        raise BulkError("bulk buffer %d: descriptor %d is not shared memory: %s"
                        % (i, fd, _describe(fd)))
    if offset + length > st.st_size:
        raise BulkError("bulk buffer %d of %d bytes at %d lies outside the %d bytes of shared "
                        "memory sent" % (i, length, offset, st.st_size))
    if length == 0:
        return memoryview(b"")
    if seals & _F_SEAL_SHRINK or map_unsealed:
        # Page-aligned start; the view skips to the buffer.
        start = offset - offset % mmap.ALLOCATIONGRANULARITY
        mapped = _map(fd, offset + length - start, start)
        return memoryview(mapped)[offset - start:]
    copy = bytearray(length)
    view = memoryview(copy)
    done = 0
    while done < length:
        got = os.preadv(fd, [view[done:]], offset + done)
        if not got:
            raise BulkError("bulk buffer %d: shared memory shrank while being read" % i)
        done += got
    return view.toreadonly()
