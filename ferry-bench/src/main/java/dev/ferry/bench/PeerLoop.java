package dev.ferry.bench;

import dev.ferry.Connection;
import dev.ferry.codec.Codec;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Both halves of a measurement over a {@link Link}: the peer, which obeys commands sent as
 * messages (in a thread of this JVM or in a second JVM, see {@link Peer}), and the drivers that
 * send a command and time what follows.
 *
 * <pre>
 *   "echo COUNT"          the peer sends each of the next COUNT messages back
 *   "sink COUNT MAXSIZE"  the peer receives COUNT messages of up to MAXSIZE bytes, then sends "k"
 *   "dict COUNT"          the peer decodes COUNT pickled objects, then sends "k" (Ferry only)
 *   "quit"                the peer returns (so does end of stream)
 * </pre>
 */
final class PeerLoop {
  private static final int INITIAL_BUFFER = 1 << 20;

  private PeerLoop() {}

  /** Serves commands until "quit" or end of stream. */
  static void serve(Link link, Codec<Object> codec) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocateDirect(INITIAL_BUFFER);
    ByteBuffer command = ByteBuffer.allocate(256);
    ByteBuffer ack = ByteBuffer.wrap(new byte[] {'k'});
    while (true) {
      command.clear();
      try {
        link.receiveInto(command);
      } catch (EOFException e) {
        return;
      }
      String[] words = new String(command.array(), 0, command.position(), StandardCharsets.US_ASCII)
          .split(" ");
      int count = words.length > 1 ? Integer.parseInt(words[1]) : 0;
      switch (words[0]) {
        case "echo" -> {
          for (int i = 0; i < count; i++) {
            buffer.clear();
            link.receiveInto(buffer);
            buffer.flip();
            link.send(buffer);
          }
        }
        case "sink" -> {
          int maxSize = Integer.parseInt(words[2]);
          if (maxSize > buffer.capacity()) buffer = ByteBuffer.allocateDirect(maxSize);
          for (int i = 0; i < count; i++) {
            buffer.clear();
            link.receiveInto(buffer);
          }
          if (buffer.capacity() > INITIAL_BUFFER) buffer = ByteBuffer.allocateDirect(INITIAL_BUFFER);
          link.send(ack);
        }
        case "dict" -> {
          Connection connection = ((FerryLink) link).connection;
          for (int i = 0; i < count; i++) connection.receive(codec);
          link.send(ack);
        }
        case "quit" -> {
          return;
        }
        default -> throw new IOException("unknown command: " + words[0]);
      }
    }
  }

  /** Sends every message back until end of stream: the server side for CPython clients. */
  static void echoUntilEnd(Link link) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocateDirect(INITIAL_BUFFER);
    while (true) {
      buffer.clear();
      try {
        link.receiveInto(buffer);
      } catch (EOFException e) {
        return;
      }
      buffer.flip();
      link.send(buffer);
    }
  }

  private static void command(Link link, String text) throws IOException {
    link.send(ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII)));
  }

  /** Round trips of {@code size}-byte messages; returns each one's time in nanoseconds. */
  static long[] pingPong(Link link, int count, int size) throws IOException {
    ByteBuffer message = ByteBuffer.allocateDirect(size);
    ByteBuffer reply = ByteBuffer.allocateDirect(size);
    long[] times = new long[count];
    command(link, "echo " + count);
    for (int i = 0; i < count; i++) {
      long start = System.nanoTime();
      link.send(message);
      reply.clear();
      link.receiveInto(reply);
      times[i] = System.nanoTime() - start;
    }
    return times;
  }

  /** Sends {@code count} messages of {@code size} bytes; returns nanoseconds until the peer's ack. */
  static long oneWay(Link link, int count, int size) throws IOException {
    ByteBuffer message = ByteBuffer.allocateDirect(size);
    ByteBuffer ack = ByteBuffer.allocate(16);
    command(link, "sink " + count + " " + size);
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) link.send(message);
    link.receiveInto(ack);
    return System.nanoTime() - start;
  }

  /** Sends {@code count} objects through {@code codec}; returns nanoseconds until the peer's ack. */
  static long objects(FerryLink link, int count, Object value, Codec<Object> codec)
      throws IOException {
    ByteBuffer ack = ByteBuffer.allocate(16);
    command(link, "dict " + count);
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) link.connection.send(value, codec);
    link.receiveInto(ack);
    return System.nanoTime() - start;
  }

  static void quit(Link link) throws IOException {
    command(link, "quit");
  }
}
