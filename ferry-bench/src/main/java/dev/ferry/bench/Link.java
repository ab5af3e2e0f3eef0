package dev.ferry.bench;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One end of a framed byte stream as the drivers in {@link PeerLoop} see it: a Ferry connection,
 * or a JDK socket channel with the framing done by hand.
 */
interface Link extends AutoCloseable {
  /** Sends the remaining bytes of {@code message} as one message; leaves its position alone. */
  void send(ByteBuffer message) throws IOException;

  /**
   * Receives one message into {@code buffer} from its position and returns its length.
   *
   * @throws java.io.EOFException at a clean end of stream
   */
  int receiveInto(ByteBuffer buffer) throws IOException;

  @Override
  void close() throws IOException;
}
