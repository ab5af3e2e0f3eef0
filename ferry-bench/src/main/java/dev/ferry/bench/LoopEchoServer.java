package dev.ferry.bench;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.Listener;
import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import java.io.IOException;

/**
 * The reference of {@link ServeBench}: the smallest echo server the library makes, as
 * docs/ASYNC.md shows it (accept on this thread, every client on the event loops, each message
 * sent back), with as many loops as {@code ferry echo} takes. Prints {@code listening on ADDR},
 * then serves until it is killed.
 *
 * <p>{@code java -cp ... dev.ferry.bench.LoopEchoServer ADDRESS KEY_HEX}
 */
public final class LoopEchoServer {
  /** As ferry-cli's EventLoopServer: up to 4 loops per kind of socket. */
  static final int LOOPS_PER_KIND = Math.max(1, Math.min(4,
      Runtime.getRuntime().availableProcessors()));

  private LoopEchoServer() {}

  public static void main(String[] args) throws IOException {
    ConnectionOptions options = ConnectionOptions.builder()
        .authKey(AuthKey.fromHex(args[1])).build();
    try (EventLoops loops = EventLoops.open(LOOPS_PER_KIND);
         Listener listener = Listener.bind(Address.parse(args[0]), options)) {
      System.out.println("listening on " + listener.address());
      System.out.flush();
      while (true) {
        Connection c;
        try {
          c = listener.accept();
        } catch (IOException e) {
          System.err.println("reference echo: dropped client: " + e.getMessage());
          continue;
        }
        echo(AsyncConnection.of(c, loops));
      }
    }
  }

  private static void echo(AsyncConnection c) {
    c.receiveAsync().thenCompose(c::sendAsync).whenComplete((v, e) -> {
      if (e == null) {
        echo(c);
      } else {
        try {
          c.close();
        } catch (IOException closing) {
          // Already gone: nothing to tell.
        }
      }
    });
  }
}
