package dev.ferry.cli;

import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Map;
import java.util.Objects;

/**
 * What a command may touch outside itself: the standard streams, the environment, and whether it
 * owns the process (only then may it install a shutdown hook that decides the exit code).
 */
record CliContext(InputStream in, PrintWriter out, PrintWriter err, Map<String, String> env,
    boolean ownsProcess) {
  CliContext {
    Objects.requireNonNull(in, "in");
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(err, "err");
    env = Map.copyOf(env);
  }
}
