package dev.ferry;

import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * A child JVM for tests that need more connections than one process's descriptor limit allows
 * with both ends at home: listens on {@code args[0]} (say {@code tcp:127.0.0.1:0}), prints the
 * bound address on a line of its own, and echoes every message of every connection on event
 * loops until its stdin closes.
 */
public final class EchoServerMain {
  private EchoServerMain() {}

  public static void main(String[] args) throws Exception {
    try (EventLoops loops = EventLoops.open(1);
        Listener listener = Listener.bind(Address.parse(args[0]))) {
      acceptNext(listener, loops);
      System.out.println(listener.address());
      System.out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      while (in.readLine() != null) {
        // Runs until the parent closes our stdin (or dies).
      }
    }
  }

  private static void acceptNext(Listener listener, EventLoops loops) {
    listener.acceptAsync().thenAccept(c -> {
      acceptNext(listener, loops);
      echo(AsyncConnection.of(c, loops));
    });
  }

  private static void echo(AsyncConnection c) {
    c.receiveAsync().thenCompose(c::sendAsync).thenRun(() -> echo(c));
  }
}
