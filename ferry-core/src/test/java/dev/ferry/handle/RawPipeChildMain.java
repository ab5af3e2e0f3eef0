package dev.ferry.handle;

import static java.nio.charset.StandardCharsets.US_ASCII;

import dev.ferry.Connection;
import dev.ferry.async.AsyncRawReader;
import dev.ferry.async.AsyncRawWriter;
import dev.ferry.async.EventLoops;
import java.io.IOException;

/**
 * The Java child of seed 003's example. {@code write}: takes the write end of a raw pipe from its
 * parent and writes one line on it from an event loop. {@code read}: takes the read end, reads
 * lines on a loop until the end of the stream, and answers with their count on the connection.
 */
public final class RawPipeChildMain {
  private RawPipeChildMain() {}

  public static void main(String[] args) throws IOException {
    try (Connection parent = Child.connectToParent(); EventLoops loops = EventLoops.open()) {
      if (args[0].equals("write")) {
        try (AsyncRawWriter tx = AsyncRawWriter.of(Handles.receiveRawWriter(parent), loops)) {
          tx.write("hi from child process\n".getBytes(US_ASCII)).join();
        }
        return;
      }
      try (AsyncRawReader rx = AsyncRawReader.of(Handles.receiveRawReader(parent), loops)) {
        int lines = 0;
        while (rx.readLine(65536).join().length > 0) lines++;
        parent.sendBytes(Integer.toString(lines).getBytes(US_ASCII));
      }
    }
  }
}
