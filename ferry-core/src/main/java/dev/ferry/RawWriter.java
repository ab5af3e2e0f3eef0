package dev.ferry;

import dev.ferry.async.AsyncRawWriter;
import dev.ferry.internal.raw.RawWriteEnd;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * The write end of a {@link RawPipe}: a byte stream with no framing. Python: the write end of
 * {@code os.pipe()}, aiopipe's {@code AioPipeWriter}.
 *
 * <p>{@link #write(ByteBuffer)} writes the whole buffer, blocking while the reader is behind;
 * writes from several threads do not interleave. Once every copy of the read end is closed, a
 * write fails with an {@link java.io.IOException} ("broken pipe: the read end is closed").
 * {@link #close()} from another thread makes a waiting write fail with
 * {@link ConnectionClosedException}. Once {@link AsyncRawWriter#of} drives this end, blocking
 * writes throw {@link IllegalStateException}.
 *
 * <p>Implemented by Ferry only.
 */
public sealed interface RawWriter extends WritableByteChannel permits RawWriteEnd {
  /** A stream view of this end; closing it closes the end. Not buffered. */
  OutputStream outputStream();
}
