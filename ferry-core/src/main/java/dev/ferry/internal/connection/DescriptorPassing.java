package dev.ferry.internal.connection;

import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.internal.events.FerryEvents;
import dev.ferry.internal.framing.Frames;
import dev.ferry.internal.transport.SocketTransport;
import dev.ferry.internal.transport.Transport;
import java.io.FileDescriptor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * Descriptor passing over one framed connection (SCM_RIGHTS, Unix sockets only), and adoption of
 * the sockets that arrive that way as connections of their own. A message with descriptors is
 * still a frame of the connection's stream: it takes the same read and send locks as any other,
 * through the connection's {@link FrameReceiver} and {@link FrameSender}, so it never lands inside
 * another message.
 */
final class DescriptorPassing implements DescriptorChannel {
  private final FramedConnection connection;
  private final Transport transport;
  private final FrameReceiver receiver;
  private final FrameSender sender;

  /** What this end was made to do, before any refused header changed it. */
  private final boolean receivingEnd;

  /** The options of connections adopted from received descriptors. */
  private final ConnectionOptions options;

  DescriptorPassing(FramedConnection connection, Transport transport, FrameReceiver receiver,
      FrameSender sender, boolean receivingEnd, ConnectionOptions options) {
    this.connection = connection;
    this.transport = transport;
    this.receiver = receiver;
    this.sender = sender;
    this.receivingEnd = receivingEnd;
    this.options = options;
  }

  @Override
  public Connection connection() {
    return connection;
  }

  @Override
  public boolean passesDescriptors() {
    return transport.passesDescriptors();
  }

  @Override
  public FileDescriptor fileDescriptor() throws IOException {
    return transport.fileDescriptor();
  }

  @Override
  public boolean receivingEnd() {
    return receivingEnd;
  }

  @Override
  public boolean sendingEnd() {
    return sender.writable();
  }

  @Override
  public void sendWithDescriptors(byte[] payload, FileDescriptor[] fds) throws IOException {
    ByteBuffer frame = ByteBuffer.allocate(Frames.SHORT_HEADER + payload.length);
    frame.putInt(payload.length).put(payload).flip();
    sender.sendWithDescriptors(frame, fds);
    FerryEvents.descriptorPassed(connection.description(), true, fds.length);
  }

  @Override
  public Received receiveWithDescriptors() throws IOException {
    Received r = receiver.receiveWithDescriptors(options.maxMessageSize());
    FerryEvents.descriptorPassed(connection.description(), false, r.fds().length);
    return r;
  }

  @Override
  public void sendByteWithDescriptors(byte value, FileDescriptor[] fds) throws IOException {
    sender.sendWithDescriptors(ByteBuffer.wrap(new byte[] {value}), fds);
    FerryEvents.descriptorPassed(connection.description(), true, fds.length);
  }

  @Override
  public Received receiveByteWithDescriptors() throws IOException {
    Received r = receiver.receiveByteWithDescriptors();
    FerryEvents.descriptorPassed(connection.description(), false, r.fds().length);
    return r;
  }

  @Override
  public void close() throws IOException {
    connection.close();
  }

  @Override
  public void keepPeerCopiesOnClose() {
    transport.keepPeerCopiesOnClose();
  }

  @Override
  public Connection adopt(SocketChannel channel, String description, boolean readable,
      boolean writable) throws IOException {
    SocketTransport adopted = new SocketTransport(channel);
    // The sender may still hold the socket: closing this copy must not shut it down for them.
    adopted.keepPeerCopiesOnClose();
    return new FramedConnection(adopted, description, readable, writable, options);
  }

  @Override
  public Connection adoptReceived(FileDescriptor fd, String description, boolean readable,
      boolean writable) throws IOException {
    return Adoption.adoptReceived(fd, description, readable, writable, options);
  }

  @Override
  public String toString() {
    return connection.toString();
  }
}
