package dev.ferry;

import dev.ferry.internal.connection.FramedConnection;
import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.api.SilentCloseable;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ferry.codec.Codecs;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Coverage-guided fuzzing of the frame decoder: arbitrary bytes from a raw peer, read through
 * every receive form with small limits. Only the declared outcomes may come out: a message, end
 * of stream, a framing error (after which the connection is write-only, or at its end of stream when the
 * frame was cut), a message too large (after which the connection is write-only),
 * a buffer too short. Anything else (a runtime exception, a hang, an OutOfMemoryError from
 * trusting a header) is a finding.
 *
 * <p>The default build replays the seeds in {@code FrameFuzzTestInputs}; fuzzing for real:
 * {@code JAZZER_FUZZ=1 ./mvnw -o -pl ferry-core test -Dtest=FrameFuzzTest -Djazzer.max_duration=10m}.
 */
class FrameFuzzTest {

  @FuzzTest(maxDuration = "6s")
  void decoderOnlyEndsInDeclaredOutcomes(FuzzedDataProvider data) throws Exception {
    long limit = data.consumeLong(0, 1 << 20);
    ConnectionOptions options = ConnectionOptions.builder().maxMessageSize(limit).build();
    int mode = data.consumeInt(0, 4);
    int maxLength = data.consumeInt(0, 300);
    byte[] stream = data.consumeRemainingAsBytes();
    // The socket pair is no request forgery: silence that bug detector.
    try (SilentCloseable network = BugDetectors.allowNetworkConnections();
        RawPeer peer = RawPeer.open(options, true, true)) {
      peer.raw.write(ByteBuffer.wrap(stream)); // a few KiB: fits the socket buffer at once
      peer.closeRaw();
      FramedConnection e = peer.endpoint;
      for (int i = 0; i <= stream.length; i++) {
        try {
          switch (mode) {
            case 0 -> e.receiveBytes();
            case 1 -> e.receiveBytes(maxLength);
            case 2 -> e.receiveBytesInto(ByteBuffer.allocate(maxLength));
            case 3 -> e.receive(Codecs.bytes());
            default -> {
              // As the accept loop reads: the peer is done writing, so it is readable.
              if (e.poll() && e.receiveNow(maxLength, true) == null) {
                throw new AssertionError("readable, yet neither a message nor an end");
              }
            }
          }
        } catch (EOFException | BufferTooShortException done) {
          if (done instanceof EOFException) return;
        } catch (FramingException | MessageTooLargeException broken) {
          // A refused header leaves the end unreadable; a cut frame leaves it at its end of stream.
          if (e.isReadable() && !endsWithEof(e)) {
            throw new AssertionError("still readable after " + broken, broken);
          }
          return;
        }
      }
      throw new AssertionError("more messages than bytes: the decoder does not advance");
    } catch (IOException unexpected) {
      throw new AssertionError("undeclared failure: " + unexpected, unexpected);
    }
  }

  private static boolean endsWithEof(FramedConnection e) throws IOException {
    try {
      e.receiveBytes();
      return false;
    } catch (EOFException end) {
      return true;
    }
  }
}
