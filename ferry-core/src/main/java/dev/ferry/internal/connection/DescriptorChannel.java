package dev.ferry.internal.connection;

import dev.ferry.Connection;
import java.io.FileDescriptor;
import java.io.IOException;
import java.nio.channels.SocketChannel;

/**
 * What {@code dev.ferry.handle} needs from a connection to pass descriptors over it: the
 * connection's {@link FramedConnection#descriptors()}, implemented by {@link DescriptorPassing}.
 */
public sealed interface DescriptorChannel permits DescriptorPassing {

  /** The descriptor channel of {@code object} if it is a Ferry connection, else null. */
  static DescriptorChannel of(Object object) {
    return object instanceof FramedConnection connection ? connection.descriptors() : null;
  }

  /** The connection this channel passes descriptors over. */
  Connection connection();

  /** Whether this connection can carry descriptors: a Unix socket. */
  boolean passesDescriptors();

  /** This connection's own socket descriptor. */
  FileDescriptor fileDescriptor() throws IOException;

  /** Whether this end was made to receive (a duplex end or a read end). */
  boolean receivingEnd();

  /** Whether this end was made to send (a duplex end or a write end). */
  boolean sendingEnd();

  /** Sends one framed message with {@code fds} attached to it. */
  void sendWithDescriptors(byte[] payload, FileDescriptor[] fds) throws IOException;

  /**
   * Receives one framed message and the descriptors that came with it; the caller owns them.
   * Descriptors that came with earlier messages and were not claimed are closed.
   */
  Received receiveWithDescriptors() throws IOException;

  /** Sends one raw byte, outside framing, with {@code fds}: CPython's {@code send_handle}. */
  void sendByteWithDescriptors(byte value, FileDescriptor[] fds) throws IOException;

  /** Receives one raw byte, outside framing, and its descriptors: CPython's {@code recv_handle}. */
  Received receiveByteWithDescriptors() throws IOException;

  /** Closes this end. */
  void close() throws IOException;

  /** Close without shutting the socket down for other processes that hold a duplicate. */
  void keepPeerCopiesOnClose();

  /** A connection on {@code channel}, with the options of this one. */
  Connection adopt(SocketChannel channel, String description, boolean readable, boolean writable)
      throws IOException;

  /**
   * A connection on received descriptor {@code fd}, a Unix socket or a pipe end, with the options
   * of this one; see {@link Adoption#adoptReceived}.
   */
  Connection adoptReceived(FileDescriptor fd, String description, boolean readable,
      boolean writable) throws IOException;

  /** A message (or a raw byte) and the descriptors that came with it. */
  record Received(byte[] payload, FileDescriptor[] fds) {}
}
