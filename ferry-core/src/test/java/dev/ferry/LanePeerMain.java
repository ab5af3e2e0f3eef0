package dev.ferry;

import java.time.Duration;

/**
 * A child JVM for the lane's peer-death tests: listens with a shared-memory lane on
 * {@code args[0]} (keyless), prints the bound address, and echoes every message of the one
 * connection it accepts with blocking calls; {@code args[1] == "mute"} accepts and never reads.
 */
public final class LanePeerMain {
  private LanePeerMain() {}

  public static void main(String[] args) throws Exception {
    ConnectionOptions options = ConnectionOptions.builder()
        .sharedMemoryLane(SharedMemoryLane.builder().ringSize(64 * 1024).build()).build();
    try (Listener listener = Listener.bind(Address.parse(args[0]), options)) {
      System.out.println(listener.address());
      System.out.flush();
      try (Connection c = listener.accept(Duration.ofSeconds(30))) {
        if (args.length > 1 && args[1].equals("mute")) {
          Thread.sleep(Long.MAX_VALUE);
        }
        while (true) c.sendBytes(c.receiveBytes());
      }
    }
  }
}
