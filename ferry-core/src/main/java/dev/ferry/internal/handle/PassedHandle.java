package dev.ferry.internal.handle;

import java.io.Serializable;

/**
 * What a connection or listener becomes inside a Java-serialized message: the index of its
 * descriptor among those attached to the frame, and what the end may do, so that a read end stays
 * a read end. For a listener, also its address and key (hex, or null for none): the receiving
 * process accepts for it, so it must authenticate clients the same way.
 */
public record PassedHandle(int index, boolean readable, boolean writable, String listenerAddress,
    String listenerKey) implements Serializable {
  private static final long serialVersionUID = 1L;

  public boolean isListener() {
    return listenerAddress != null;
  }
}
