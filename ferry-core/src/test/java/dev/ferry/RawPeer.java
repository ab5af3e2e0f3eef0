package dev.ferry;

import dev.ferry.internal.connection.FramedConnection;
import dev.ferry.internal.transport.SocketPairs;
import dev.ferry.internal.transport.SocketTransport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * A Ferry endpoint wired to a raw socket that the test drives byte by byte: to feed the decoder
 * exactly the bytes a broken or hostile peer would, and to see exactly what Ferry writes.
 */
final class RawPeer implements AutoCloseable {
  final FramedConnection endpoint;
  final AFUNIXSocketChannel raw;

  private RawPeer(FramedConnection endpoint, AFUNIXSocketChannel raw) {
    this.endpoint = endpoint;
    this.raw = raw;
  }

  static RawPeer open(ConnectionOptions options, boolean readable, boolean writable)
      throws IOException {
    AFUNIXSocketChannel[] pair = SocketPairs.open();
    FramedConnection endpoint = new FramedConnection(new SocketTransport(pair[0]), "raw test", readable, writable,
        options);
    return new RawPeer(endpoint, pair[1]);
  }

  static RawPeer open() throws IOException {
    return open(ConnectionOptions.defaults(), true, true);
  }

  void write(String hex) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(HexFormat.of().parseHex(hex.replace(" ", "")));
    while (b.hasRemaining()) raw.write(b);
  }

  /** Writes one byte at a time, pausing so that the reader sees each byte in its own read. */
  void writeSlowly(byte[] bytes) throws IOException, InterruptedException {
    for (byte x : bytes) {
      ByteBuffer b = ByteBuffer.wrap(new byte[] {x});
      while (b.hasRemaining()) raw.write(b);
      Thread.sleep(0, 200_000);
    }
  }

  /** Reads exactly {@code n} bytes of what Ferry wrote, as hex. */
  String read(int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (raw.read(b) < 0) throw new java.io.EOFException("raw peer: end of stream after " + b.position());
    }
    return HexFormat.of().formatHex(b.array());
  }

  void closeRaw() throws IOException {
    raw.close();
  }

  @Override
  public void close() throws IOException {
    try {
      endpoint.close();
    } finally {
      raw.close();
    }
  }
}
