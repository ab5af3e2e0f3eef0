package dev.ferry.pickle;

import dev.ferry.codec.CodecException;

/**
 * A value to pickle holds a Ferry connection, or a pickle to read holds CPython's
 * {@code rebuild_connection}, and the codec was built without
 * {@link PickleCodec.Builder#connections}. Nothing was fetched or shared.
 */
public final class ConnectionsNotCarriedException extends CodecException {
  private static final long serialVersionUID = 1L;

  public ConnectionsNotCarriedException(String message) {
    super(message);
  }
}
