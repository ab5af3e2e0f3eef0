package dev.ferry.cli;

import picocli.CommandLine.Option;

/** The option {@code echo} and {@code listen} add to {@link EndpointOptions}. */
final class ServeOptions {
  @Option(names = "--max-connections", paramLabel = "N",
      description = "Accept N connections, serve each to its end, then exit.")
  Integer maxConnections;
}
