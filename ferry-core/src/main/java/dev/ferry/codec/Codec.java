package dev.ferry.codec;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * Turns values into message payloads and back. A codec is stateless and safe for use by many
 * threads and connections at once.
 *
 * <p>Built-in codecs live in {@link Codecs}; the Python pickle codec lives in the
 * {@code ferry-pickle} module.
 *
 * @param <T> the type of value this codec writes and reads
 */
public interface Codec<T> {

  /** A short lowercase name for logs and the command line, like {@code "utf8"} or {@code "pickle"}. */
  String name();

  /**
   * Writes {@code value} as one message payload to {@code out}. The stream belongs to the caller:
   * don't close it. Everything written becomes the payload of exactly one message.
   *
   * @throws CodecException if {@code value} cannot be represented by this codec
   */
  void encode(T value, OutputStream out) throws IOException;

  /**
   * Reads one value from a whole message payload, between {@code payload.position()} and
   * {@code payload.limit()}. The buffer is only valid during this call: copy what you keep.
   *
   * @throws CodecException if the payload is malformed or names something this codec refuses
   */
  T decode(ByteBuffer payload) throws IOException;
}
