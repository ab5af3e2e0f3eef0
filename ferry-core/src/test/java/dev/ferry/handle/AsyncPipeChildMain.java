package dev.ferry.handle;

import dev.ferry.Connection;
import dev.ferry.async.AsyncSender;
import dev.ferry.async.EventLoops;
import dev.ferry.codec.Codecs;
import java.io.IOException;

/**
 * The child of the aiopipe-like example (docs/ASYNC.md): takes the write end of a one-way pipe
 * from its parent and writes one line on it from an event loop.
 */
public final class AsyncPipeChildMain {
  private AsyncPipeChildMain() {}

  public static void main(String[] args) throws IOException {
    try (Connection parent = Child.connectToParent();
        EventLoops loops = EventLoops.open();
        AsyncSender tx = AsyncSender.of(Handles.receiveConnection(parent, Access.WRITE_ONLY), loops)) {
      tx.sendAsync("hi from child process\n", Codecs.utf8()).join();
    }
  }
}
