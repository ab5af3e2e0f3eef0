package dev.ferry.handle;

import static java.nio.charset.StandardCharsets.US_ASCII;

import dev.ferry.Connection;
import dev.ferry.async.AsyncRawWriter;
import dev.ferry.async.EventLoops;
import java.io.IOException;

/**
 * The Java child of seed 003's example: takes the write end of a raw pipe from its parent and
 * writes one line on it from an event loop.
 */
public final class RawPipeChildMain {
  private RawPipeChildMain() {}

  public static void main(String[] args) throws IOException {
    try (Connection parent = Child.connectToParent();
        EventLoops loops = EventLoops.open();
        AsyncRawWriter tx = AsyncRawWriter.of(Handles.receiveRawWriter(parent), loops)) {
      tx.write("hi from child process\n".getBytes(US_ASCII)).join();
    }
  }
}
