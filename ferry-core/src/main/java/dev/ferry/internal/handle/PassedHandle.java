package dev.ferry.internal.handle;

import java.io.Serializable;

/**
 * What a connection becomes inside a Java-serialized message: the index of its descriptor among
 * those attached to the frame, and what the end may do, so that a read end stays a read end.
 */
public record PassedHandle(int index, boolean readable, boolean writable) implements Serializable {
  private static final long serialVersionUID = 1L;
}
