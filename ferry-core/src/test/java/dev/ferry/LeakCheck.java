package dev.ferry;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test that leaves file descriptors or Ferry threads behind. Descriptors are counted
 * in /proc/self/fd; a short grace period lets the kernel and the JDK finish closing.
 */
public final class LeakCheck implements BeforeEachCallback, AfterEachCallback {
  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(LeakCheck.class);

  static {
    // Load junixsocket's native library and the JDK's lazily opened sockets (a TCP connection
    // makes the JDK open a socket it keeps for good) before any baseline.
    try {
      Pipe.duplex().close();
      try (Listener listener = Listener.bind(new Address.Tcp("127.0.0.1", 0));
          Connection c = Client.connect(listener.address());
          Connection d = listener.accept()) {
        c.sendBytes(new byte[1]);
        d.receiveBytes();
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    context.getStore(NS).put("fds", openDescriptors());
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    @SuppressWarnings("unchecked")
    Set<String> before = (Set<String>) context.getStore(NS).get("fds");
    Set<String> leaked = Set.of();
    Set<String> threads = Set.of();
    for (int i = 0; i < 50; i++) {
      leaked = new TreeSet<>(openDescriptors());
      leaked.removeAll(before);
      threads = ferryThreads();
      if (leaked.isEmpty() && threads.isEmpty()) return;
      System.gc();
      Thread.sleep(100);
    }
    if (!threads.isEmpty()) fail("threads left running: " + threads);
    fail("descriptors leaked by " + context.getDisplayName() + ": " + leaked);
  }

  static Set<String> openDescriptors() {
    Set<String> result = new TreeSet<>();
    File[] fds = new File("/proc/self/fd").listFiles();
    if (fds == null) return result;
    for (File fd : fds) {
      try {
        result.add(fd.getName() + " -> " + fd.toPath().toRealPath());
      } catch (IOException e) {
        readLink(fd).ifPresent(target -> result.add(fd.getName() + " -> " + target));
      }
    }
    return result;
  }

  /**
   * The link's target, or empty for a descriptor closed since the listing: the listing's own
   * directory descriptor is one, and its number is whatever was lowest free, so counting it
   * reported "N -> ?" as a leak whenever a descriptor below it had been closed meanwhile.
   */
  private static java.util.Optional<String> readLink(File fd) {
    try {
      return java.util.Optional.of(java.nio.file.Files.readSymbolicLink(fd.toPath()).toString());
    } catch (IOException e) {
      return java.util.Optional.empty();
    }
  }

  static Set<String> ferryThreads() {
    Set<String> names = new TreeSet<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.isAlive() && t.getName().startsWith("ferry-")) names.add(t.getName());
    }
    return names;
  }
}
