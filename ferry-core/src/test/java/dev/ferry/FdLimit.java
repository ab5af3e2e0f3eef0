package dev.ferry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The process's soft limit on open descriptors, for tests that size themselves to fit it. */
final class FdLimit {
  private FdLimit() {}

  /** The soft "Max open files" of /proc/self/limits; Long.MAX_VALUE if unlimited or unknown. */
  static long soft() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max open files")) {
          String[] f = line.substring("Max open files".length()).trim().split("\\s+");
          return f[0].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(f[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      return Long.MAX_VALUE;
    }
    return Long.MAX_VALUE;
  }

  /**
   * How many units of {@code perUnit} descriptors fit under the soft limit, next to those open now
   * and a reserve for the JDK and the build; at most {@code wanted}.
   */
  static int fit(int wanted, int perUnit) {
    long room = soft() - LeakCheck.openDescriptors().size() - 300;
    return (int) Math.max(0, Math.min(wanted, room / perUnit));
  }
}
