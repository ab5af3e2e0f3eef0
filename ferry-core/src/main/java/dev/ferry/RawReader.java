package dev.ferry;

import dev.ferry.async.AsyncRawReader;
import dev.ferry.internal.raw.RawReadEnd;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.time.Duration;

/**
 * The read end of a {@link RawPipe}: a byte stream with no framing. Python: the read end of
 * {@code os.pipe()}, aiopipe's {@code AioPipeReader}.
 *
 * <p>{@link #read(ByteBuffer)} blocks until at least one byte has arrived, and returns -1 once
 * every copy of the write end (in this process and in any process it was passed to) is closed.
 * One blocking reader at a time; {@link #close()} from another thread makes a waiting read fail
 * with {@link ConnectionClosedException}. Once {@link AsyncRawReader#of} drives this end, blocking
 * reads throw {@link IllegalStateException} ("... reads asynchronously").
 *
 * <p>Implemented by Ferry only.
 */
public sealed interface RawReader extends ReadableByteChannel permits RawReadEnd {
  /**
   * As {@link #read(ByteBuffer)}, waiting at most {@code timeout}.
   *
   * @throws java.net.SocketTimeoutException ("read timed out after 50 ms") when nothing came in
   *     time; the end stays usable
   */
  int read(ByteBuffer dst, Duration timeout) throws IOException;

  /** A stream view of this end; closing it closes the end. Not buffered. */
  InputStream inputStream();
}
