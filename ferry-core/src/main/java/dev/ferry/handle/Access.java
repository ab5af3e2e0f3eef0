package dev.ferry.handle;

/** What a received connection end may do. */
public enum Access {
  /** Send and receive: a duplex connection. Python: {@code Connection(fd, True, True)}. */
  DUPLEX(true, true),
  /** Receive only: a one-way pipe's read end. Python: {@code Connection(fd, True, False)}. */
  READ_ONLY(true, false),
  /** Send only: a one-way pipe's write end. Python: {@code Connection(fd, False, True)}. */
  WRITE_ONLY(false, true);

  private final boolean readable;
  private final boolean writable;

  Access(boolean readable, boolean writable) {
    this.readable = readable;
    this.writable = writable;
  }

  public boolean readable() {
    return readable;
  }

  public boolean writable() {
    return writable;
  }

  static Access of(boolean readable, boolean writable) {
    if (readable && writable) return DUPLEX;
    return readable ? READ_ONLY : WRITE_ONLY;
  }
}
