package dev.ferry;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a {@link Listener} listens and a {@link Client} connects. Written as text in three forms:
 *
 * <pre>
 *   unix:/run/app/worker.sock    a Unix socket file (Python: the str path)
 *   unix:@app-worker             a Linux abstract name (Python: "\0app-worker")
 *   tcp:127.0.0.1:6000           TCP over IPv4 (Python: ("127.0.0.1", 6000))
 *   tcp:[::1]:6000               TCP over IPv6 (Python listeners only, with family="AF_INET6")
 * </pre>
 *
 * Port 0 asks for any free port; the listener's {@link Listener#address()} reports the one bound.
 * {@link #toString()} gives back the text form, so an address survives a round trip through a
 * command line.
 */
public sealed interface Address permits Address.Unix, Address.Abstract, Address.Tcp {

  /**
   * The longest Unix socket path or abstract name in bytes: Linux's {@code sun_path} holds 108
   * bytes, one of which is the path's terminating NUL or the abstract name's leading one.
   */
  int MAX_UNIX_NAME_BYTES = 107;

  /** Parses the text form. Throws {@link IllegalArgumentException} naming the text if it is malformed. */
  static Address parse(String text) {
    Objects.requireNonNull(text, "text");
    if (text.startsWith("unix:@")) {
      return new Abstract(text.substring("unix:@".length()));
    }
    if (text.startsWith("unix:")) {
      String path = text.substring("unix:".length());
      if (path.isEmpty()) throw new IllegalArgumentException("empty unix path: " + text);
      return new Unix(Path.of(path));
    }
    if (text.startsWith("tcp:")) {
      String rest = text.substring("tcp:".length());
      int colon = rest.lastIndexOf(':');
      if (colon <= 0) throw new IllegalArgumentException("missing port in address: " + text);
      String host = rest.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
      else if (host.indexOf(':') >= 0) {
        throw new IllegalArgumentException("ipv6 host needs brackets, like tcp:[::1]:6000: " + text);
      }
      return new Tcp(host, parsePort(rest.substring(colon + 1), text));
    }
    throw new IllegalArgumentException(
        "unknown address syntax: " + text + " (expected unix:/path, unix:@name, tcp:host:port)");
  }

  private static int parsePort(String port, String text) {
    try {
      return Integer.parseInt(port);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad port in address: " + text);
    }
  }

  /** A Unix socket file. The path may be relative; it is used as given. */
  record Unix(Path path) implements Address {
    public Unix {
      Objects.requireNonNull(path, "path");
      int bytes = path.toString().getBytes(StandardCharsets.UTF_8).length;
      if (bytes == 0) throw new IllegalArgumentException("empty unix path");
      if (bytes > MAX_UNIX_NAME_BYTES) {
        throw new IllegalArgumentException("unix path too long: " + bytes + " bytes > limit "
            + MAX_UNIX_NAME_BYTES + ": " + path);
      }
    }

    @Override
    public String toString() {
      return "unix:" + path;
    }
  }

  /** A name in Linux's abstract socket namespace: no file, gone when the last socket closes. */
  record Abstract(String name) implements Address {
    public Abstract {
      Objects.requireNonNull(name, "name");
      int bytes = name.getBytes(StandardCharsets.UTF_8).length;
      if (bytes == 0) throw new IllegalArgumentException("empty abstract name");
      if (bytes > MAX_UNIX_NAME_BYTES) {
        throw new IllegalArgumentException("abstract name too long: " + bytes + " bytes > limit "
            + MAX_UNIX_NAME_BYTES + ": " + name);
      }
    }

    @Override
    public String toString() {
      return "unix:@" + name;
    }
  }

  /** A TCP host and port; the host is a name or a literal IPv4 or IPv6 address (no brackets). */
  record Tcp(String host, int port) implements Address {
    public Tcp {
      Objects.requireNonNull(host, "host");
      if (host.isEmpty()) throw new IllegalArgumentException("empty tcp host");
      if (port < 0 || port > 65535) throw new IllegalArgumentException("port out of range: " + port);
    }

    /** True if the host is an IPv6 literal. */
    public boolean isIpv6Literal() {
      return host.indexOf(':') >= 0;
    }

    @Override
    public String toString() {
      return "tcp:" + (isIpv6Literal() ? "[" + host + "]" : host) + ":" + port;
    }
  }
}
