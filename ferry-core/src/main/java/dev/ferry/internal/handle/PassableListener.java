package dev.ferry.internal.handle;

import dev.ferry.Address;
import dev.ferry.ConnectionOptions;
import java.io.FileDescriptor;
import java.io.IOException;

/** What {@code dev.ferry.handle} needs from a listener to pass its socket to another process. */
public interface PassableListener {

  /** Whether the listening socket can travel: a Unix socket. */
  boolean passesDescriptor();

  FileDescriptor serverDescriptor() throws IOException;

  Address address();

  ConnectionOptions options();

  /**
   * From now on, closing releases only this process's descriptor: no shutdown, and the socket
   * file stays for the process that received it.
   */
  void markPassedOn();

  void close() throws IOException;
}
