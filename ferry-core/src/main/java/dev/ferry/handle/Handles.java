package dev.ferry.handle;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.RawPipe;
import dev.ferry.RawReader;
import dev.ferry.RawWriter;
import dev.ferry.Receiver;
import dev.ferry.Sender;
import dev.ferry.codec.CodecException;
import dev.ferry.internal.accept.SocketListener;
import dev.ferry.internal.connection.DescriptorChannel;
import dev.ferry.internal.handle.Descriptors;
import dev.ferry.internal.handle.HandleStreams;
import dev.ferry.internal.handle.PassedHandle;
import dev.ferry.internal.raw.RawEnd;
import dev.ferry.internal.raw.RawReadEnd;
import dev.ferry.internal.raw.RawWriteEnd;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.Serializable;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Passes open connections (and raw descriptors) to another process over a Unix socket connection,
 * with SCM_RIGHTS: the receiving process gets its own descriptor for the same socket and can talk
 * to the connection's peer directly, the {@code reply_to} pattern.
 *
 * <p>Two forms:
 * <ul>
 *   <li>The plain form, one connection at a time, outside framing: one data byte and the
 *       descriptor. It is CPython's {@code multiprocessing.reduction.send_handle(conn, fd, pid)}
 *       and {@code recv_handle(conn)}, so either side may be Python. Both sides must agree that a
 *       handle, not a message, comes next.
 *   <li>Inside a message, Java to Java: {@link #send(Sender, Serializable, Ownership)} serializes
 *       the message and every {@link Connection}, {@link Receiver} or {@link Sender} in it, at any
 *       depth, travels as a descriptor attached to the frame. {@link #receive} rebuilds each as a
 *       working end of the same kind: a one-way pipe's read end stays read-only.
 * </ul>
 *
 * <p>Ownership is explicit: {@link Ownership#DUPLICATE} leaves this process's copy open,
 * {@link Ownership#MOVE} closes it once the message has been handed to the operating system.
 * Either way the passed end, and every end received, closes without shutting the socket down, so
 * that one process closing its copy never ends the connection for the others. The peer of the
 * passed connection sees end of stream once every process has closed its copy.
 *
 * <p>Descriptors that arrive and nobody claims (a message received with a plain receive, or an
 * index the message does not mention) are closed when the next message is read or the connection
 * closes. A message that is never received pins its descriptors in the receiving socket's queue
 * (in the kernel) until that socket is closed; the sender's copies are closed at once for
 * {@code MOVE} and stay the caller's to close for {@code DUPLICATE}.
 *
 * <p>Only Unix socket connections ({@code Pipe} ends, {@code unix:} and abstract addresses) carry
 * descriptors; the others throw {@link IllegalArgumentException} before anything is sent.
 */
public final class Handles {
  private Handles() {}

  // ---------------------------------------------------------------------------------------------
  // Plain form: CPython's send_handle / recv_handle.

  /**
   * Sends a duplicate of {@code fd}; the caller keeps (and must still close) its own. Python:
   * {@code reduction.send_handle(conn, fd, pid)}.
   */
  public static void sendDescriptor(Sender via, FileDescriptor fd) throws IOException {
    Objects.requireNonNull(fd, "fd");
    channel(via, "via").sendByteWithDescriptors((byte) 1, new FileDescriptor[] {fd});
  }

  /**
   * Receives one descriptor sent by {@link #sendDescriptor} or Python's {@code send_handle}. The
   * caller owns it: close it with {@code new FileInputStream(fd).close()} when done. Python:
   * {@code reduction.recv_handle(conn)}.
   *
   * @throws EOFException if the peer closed first
   * @throws DescriptorPassingException if the byte came with no descriptor or several
   */
  public static FileDescriptor receiveDescriptor(Receiver via) throws IOException {
    DescriptorChannel.Received received = channel(via, "via").receiveByteWithDescriptors();
    FileDescriptor[] fds = received.fds();
    if (fds.length != 1) {
      Descriptors.closeAll(fds, 0);
      throw new DescriptorPassingException("received " + fds.length + " descriptors, expected 1");
    }
    return fds[0];
  }

  /**
   * Sends {@code passed} (a {@link Connection}, {@link Receiver} or {@link Sender} over a Unix
   * socket) in the plain form, which Python takes with {@code recv_handle(conn)} and
   * {@code Connection(fd, readable, writable)}.
   *
   * @throws IllegalArgumentException if {@code via} or {@code passed} is not a Unix socket
   *     connection, or {@code passed} is {@code via}
   */
  public static void sendConnection(Sender via, AutoCloseable passed, Ownership ownership)
      throws IOException {
    Objects.requireNonNull(ownership, "ownership");
    DescriptorChannel channel = channel(via, "via");
    DescriptorChannel end = channel(passed, "passed");
    if (end == channel) throw new IllegalArgumentException("cannot pass a connection over itself");
    channel.sendByteWithDescriptors((byte) 1, new FileDescriptor[] {end.fileDescriptor()});
    release(List.of(end), ownership);
  }

  /**
   * Receives a connection end sent in the plain form, by {@link #sendConnection} or by Python's
   * {@code send_handle(conn, other.fileno(), pid)}, and gives it {@code access}. The end may be a
   * Unix socket or a pipe end (either end of CPython's {@code Pipe(duplex=False)}, which are
   * {@code os.pipe()} ends), adopted as {@link Inherited#connection} adopts them: a pipe end's
   * bytes travel through a socket pair and a thread of the connection's own.
   *
   * @throws IOException naming the descriptor, which is closed then, if it is neither a Unix
   *     stream socket nor a pipe end, or a pipe end that cannot do what {@code access} asks:
   *     {@code "received descriptor 9 is a pipe's read end: it cannot send"}
   */
  public static Connection receiveConnection(Receiver via, Access access) throws IOException {
    Objects.requireNonNull(access, "access");
    DescriptorChannel channel = channel(via, "via");
    FileDescriptor fd = receiveDescriptor(via);
    return channel.adoptReceived(fd, "received connection", access.readable(),
        access.writable());
  }

  // ---------------------------------------------------------------------------------------------
  // Raw pipe ends: plain form, as a descriptor the peer uses as it is.

  /**
   * Sends {@code end} (a {@link RawPipe} end) in the plain form. A Python peer takes it with
   * {@code fd = recv_handle(conn)} (or {@code ferry_child.receive_fd(conn)}) and uses the number
   * as it is: {@code os.fdopen(fd, 'rb')}, asyncio's {@code connect_read_pipe}, aiopipe's
   * {@code AioPipeReader(fd)}. With {@link Ownership#MOVE} this process's copy is closed once it
   * has left, as aiopipe's {@code with rx.send()} does; either way it closes without shutdown,
   * so the receiver's copy keeps working.
   *
   * @throws IllegalStateException if an event loop drives {@code end}, or a thread is blocked on
   *     it
   */
  public static void sendRawEnd(Sender via, RawReader end, Ownership ownership)
      throws IOException {
    sendRaw(via, (RawEnd) Objects.requireNonNull(end, "end"), ownership);
  }

  /** As {@link #sendRawEnd(Sender, RawReader, Ownership)}, for a write end. */
  public static void sendRawEnd(Sender via, RawWriter end, Ownership ownership)
      throws IOException {
    sendRaw(via, (RawEnd) Objects.requireNonNull(end, "end"), ownership);
  }

  private static void sendRaw(Sender via, RawEnd end, Ownership ownership) throws IOException {
    Objects.requireNonNull(ownership, "ownership");
    DescriptorChannel channel = channel(via, "via");
    channel.sendByteWithDescriptors((byte) 1, new FileDescriptor[] {end.descriptorForPassing()});
    if (ownership == Ownership.MOVE) end.close();
  }

  /**
   * Receives the read end of a raw pipe sent by {@link #sendRawEnd} (or by Python's
   * {@code send_handle(conn, fd, pid)} with one end of a Unix socket pair). The caller owns it.
   *
   * @throws IOException if the descriptor is not a Unix stream socket (a Python {@code os.pipe()}
   *     end is not taken: see {@link RawPipe}); it is closed then
   */
  public static RawReader receiveRawReader(Receiver via) throws IOException {
    return new RawReadEnd(Descriptors.unixChannel(receiveDescriptor(via)),
        "received raw read end");
  }

  /** As {@link #receiveRawReader}, for a write end. */
  public static RawWriter receiveRawWriter(Receiver via) throws IOException {
    return new RawWriteEnd(Descriptors.unixChannel(receiveDescriptor(via)),
        "received raw write end");
  }

  // ---------------------------------------------------------------------------------------------
  // Inside a message: Java serialization, connections at any depth.

  /**
   * Sends {@code message} with Java serialization; each {@link Connection}, {@link Receiver} or
   * {@link Sender} in it travels with the frame as a descriptor. With {@link Ownership#MOVE} they
   * are all closed (without shutdown) once the message is sent.
   */
  public static void send(Sender via, Serializable message, Ownership ownership)
      throws IOException {
    Objects.requireNonNull(ownership, "ownership");
    DescriptorChannel channel = channel(via, "via");
    HandleStreams.Encoded encoded = HandleStreams.encode(message);
    FileDescriptor[] fds = new FileDescriptor[encoded.passed().size()];
    for (int i = 0; i < fds.length; i++) {
      Object passed = encoded.passed().get(i);
      if (passed == channel) throw new IllegalArgumentException("cannot pass a connection over itself");
      if (passed instanceof SocketListener listener) {
        if (!listener.passesDescriptor()) {
          throw new IllegalArgumentException("cannot pass " + listener
              + ": only unix socket listeners travel between processes");
        }
        fds[i] = listener.serverDescriptor();
        continue;
      }
      DescriptorChannel end = (DescriptorChannel) passed;
      if (!end.passesDescriptors()) {
        throw new IllegalArgumentException("cannot pass " + end + ": only unix socket connections"
            + " travel between processes");
      }
      fds[i] = end.fileDescriptor();
    }
    channel.sendWithDescriptors(encoded.payload(), fds);
    release(encoded.passed(), ownership);
  }

  /**
   * Receives a message sent by {@link #send}, deserializing only the classes in {@code allowed}
   * (plus {@link String}, boxed primitives, arrays of them and the connections themselves) as
   * {@code Codecs.javaSerialization} does. Connections in it are working ends owned by the
   * caller. Descriptors that came with the message but that it does not mention are closed.
   *
   * @throws CodecException for a class outside {@code allowed}, or a malformed
   *     message; the connections it carried are closed
   */
  public static <T> T receive(Receiver via, Class<T> type, Set<Class<?>> allowed)
      throws IOException {
    Objects.requireNonNull(type, "type");
    Set<Class<?>> copy = Set.copyOf(allowed);
    DescriptorChannel channel = channel(via, "via");
    DescriptorChannel.Received received = channel.receiveWithDescriptors();
    Object value = HandleStreams.decode(received.payload(), received.fds(), copy,
        (fd, handle) -> handle.isListener()
            ? SocketListener.adopt(Descriptors.unixServerChannel(fd),
                Address.parse(handle.listenerAddress()), listenerOptions(handle))
            : channel.adopt(Descriptors.unixChannel(fd), "received connection",
                handle.readable(), handle.writable()));
    if (!type.isInstance(value)) {
      throw new CodecException("expected " + type.getName() + ", got "
          + (value == null ? "null" : value.getClass().getName()));
    }
    return type.cast(value);
  }

  // ---------------------------------------------------------------------------------------------

  private static ConnectionOptions listenerOptions(PassedHandle handle) {
    ConnectionOptions.Builder options = ConnectionOptions.builder();
    if (handle.listenerKey() != null) options.authKey(AuthKey.fromHex(handle.listenerKey()));
    return options.build();
  }

  private static void release(List<?> passed, Ownership ownership) throws IOException {
    for (Object p : passed) {
      if (p instanceof SocketListener listener) {
        listener.markPassedOn();
        if (ownership == Ownership.MOVE) listener.close();
        continue;
      }
      DescriptorChannel end = (DescriptorChannel) p;
      end.keepPeerCopiesOnClose();
      if (ownership == Ownership.MOVE) end.close();
    }
  }

  private static DescriptorChannel channel(Object connection, String name) {
    Objects.requireNonNull(connection, name);
    DescriptorChannel channel = DescriptorChannel.of(connection);
    if (channel == null) {
      throw new IllegalArgumentException(name + " is not a ferry connection: " + connection);
    }
    if (!channel.passesDescriptors()) {
      throw new IllegalArgumentException("cannot pass descriptors over " + connection
          + ": only unix socket connections carry them");
    }
    return channel;
  }
}
