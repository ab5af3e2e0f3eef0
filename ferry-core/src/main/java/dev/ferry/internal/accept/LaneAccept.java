package dev.ferry.internal.accept;

import dev.ferry.FramingException;
import dev.ferry.internal.auth.Handshake;
import dev.ferry.internal.connection.FramedConnection;
import dev.ferry.internal.connection.LaneSetup;
import dev.ferry.internal.transport.LaneTransport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;

/**
 * A listener's side of a lane's setup (docs/LANE.md 1.1, 1.2, 2), one pending connection at a
 * time, without blocking: the accept loop feeds it whenever the socket is readable.
 *
 * <p>With a key it runs after the handshake, if both challenges carried their markers: the next
 * message must be the client's offer. Without a key it looks at the first bytes the client sends
 * within {@link #OFFER_WINDOW}: an offer sets the lane up; anything else, or nothing in time, and
 * the connection is a plain one with those bytes still to be read.
 */
final class LaneAccept {
  /** How long a keyless listener waits for a client's first bytes before it calls it plain. */
  static final Duration OFFER_WINDOW = Duration.ofMillis(200);

  /** An OFFER frame: its 4-byte header and 24-byte payload. */
  private static final int OFFER_FRAME = 28;

  private final LaneTransport transport;
  private final boolean keyless;
  /** Whether an offer started arriving, so the window no longer applies. */
  private boolean offerStarted;

  LaneAccept(LaneTransport transport, boolean keyless) {
    this.transport = transport;
    this.keyless = keyless;
  }

  /** Whether the keyless window may end the wait: no offer has begun to arrive. */
  boolean windowApplies() {
    return keyless && !offerStarted;
  }

  /** Feeds what arrived; true once the lane is set up, refused, or not asked for. */
  boolean advance(FramedConnection endpoint, boolean readable, ByteBuffer scratch)
      throws IOException {
    return keyless ? advanceKeyless() : advanceKeyed(endpoint, readable, scratch);
  }

  private boolean advanceKeyed(FramedConnection endpoint, boolean readable, ByteBuffer scratch)
      throws IOException {
    byte[] message = endpoint.receiveNow(Handshake.MAX_MESSAGE_LENGTH, readable, scratch);
    if (message == null) return false;
    if (!LaneSetup.isOffer(message)) {
      throw new FramingException("shared-memory lane: expected the client's offer, got "
          + message.length + " bytes");
    }
    if (endpoint.hasBufferedInput()) {
      throw new FramingException("shared-memory lane: the client sent more before the reply");
    }
    LaneSetup.answer(transport, message, transport.takeDescriptors(0, Long.MAX_VALUE));
    return true;
  }

  private boolean advanceKeyless() throws IOException {
    byte[] first = transport.peekFirst(OFFER_FRAME);
    if (first == null && offerStarted) {
      throw new java.io.EOFException("the client closed during its shared-memory lane offer");
    }
    // Plain: the end, or a stock client.
    if (first == null || !LaneSetup.mayStartOffer(first)) return true;
    offerStarted = true;
    if (first.length < OFFER_FRAME) return false;
    transport.dropPeeked();
    LaneSetup.answer(transport, Arrays.copyOfRange(first, 4, OFFER_FRAME),
        transport.takeDescriptors(0, Long.MAX_VALUE));
    return true;
  }
}
