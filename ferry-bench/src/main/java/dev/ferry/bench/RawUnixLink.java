package dev.ferry.bench;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The JDK reference: a blocking {@link SocketChannel} over a Unix socket (JDK 16+) with Ferry's
 * framing done by hand. Sends copy header and payload into one direct buffer and write once, as
 * Ferry does; receives read the 4-byte header, then the payload (read(4) + read(n)).
 */
final class RawUnixLink implements Link {
  private final SocketChannel channel;
  private final ByteBuffer header = ByteBuffer.allocateDirect(4);
  private final ByteBuffer out = ByteBuffer.allocateDirect(64 * 1024);

  private RawUnixLink(SocketChannel channel) {
    this.channel = channel;
  }

  /** A connected pair over a socket file at {@code path}, which is gone again on return. */
  static RawUnixLink[] pair(Path path) throws IOException {
    UnixDomainSocketAddress address = UnixDomainSocketAddress.of(path);
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(address);
      SocketChannel client = SocketChannel.open(address);
      SocketChannel accepted = server.accept();
      return new RawUnixLink[] {new RawUnixLink(client), new RawUnixLink(accepted)};
    } finally {
      Files.deleteIfExists(path);
    }
  }

  @Override
  public void send(ByteBuffer message) throws IOException {
    int position = message.position();
    int length = message.remaining();
    out.clear();
    out.putInt(length);
    if (length <= out.remaining()) {
      out.put(message).flip();
      writeFully(out);
    } else {
      out.flip();
      writeFully(out);
      writeFully(message);
    }
    message.position(position);
  }

  private void writeFully(ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) channel.write(buffer);
  }

  @Override
  public int receiveInto(ByteBuffer buffer) throws IOException {
    header.clear();
    while (header.hasRemaining()) {
      if (channel.read(header) < 0) {
        if (header.position() == 0) throw new EOFException("end of stream");
        throw new EOFException("end of stream inside a header");
      }
    }
    int length = header.getInt(0);
    int end = buffer.position() + length;
    ByteBuffer target = buffer.duplicate().limit(end);
    while (target.hasRemaining()) {
      if (channel.read(target) < 0) throw new EOFException("end of stream inside a message");
    }
    buffer.position(end);
    return length;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
