package dev.ferry.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** {@code ferry 0.1.0 (java 17.0.15)}: the version Maven wrote into version.properties. */
final class VersionProvider implements IVersionProvider {
  @Override
  public String[] getVersion() throws IOException {
    return new String[] {"ferry " + version() + " (java " + Runtime.version() + ")"};
  }

  static String version() throws IOException {
    Properties properties = new Properties();
    try (InputStream in = VersionProvider.class.getResourceAsStream("version.properties")) {
      if (in == null) return "unknown";
      properties.load(in);
    }
    return properties.getProperty("version", "unknown");
  }
}
