package dev.ferry.handle;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.Client;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;

/**
 * The child's side of {@link ChildProcess}: connects a Java process to the parent that started
 * it.
 *
 * <pre>{@code
 * public static void main(String[] args) throws IOException {
 *   try (Connection parent = Child.connectToParent()) {
 *     parent.sendBytes(parent.receiveBytes()); // echo one message
 *   }
 * }
 * }</pre>
 *
 * <p>Python children do the same with {@code import ferry_child;
 * conn = ferry_child.connect_to_parent()}, a stdlib-only module the parent puts on their
 * {@code PYTHONPATH}.
 */
public final class Child {
  /** First of the three lines the parent writes to the child's standard input. */
  static final String MAGIC = "ferry-child 1";

  private Child() {}

  /**
   * Reads the parent's one-time address and key from standard input (which the parent then
   * closes) and connects. Call it once, early, before anything else reads standard input.
   *
   * @throws ProtocolException if standard input does not start the way a parent writes it
   */
  public static Connection connectToParent() throws IOException {
    return connectToParent(System.in, ConnectionOptions.defaults());
  }

  /** As {@link #connectToParent()}, with the message size limit and timeouts of {@code options}. */
  public static Connection connectToParent(ConnectionOptions options) throws IOException {
    return connectToParent(System.in, options);
  }

  static Connection connectToParent(InputStream in, ConnectionOptions options) throws IOException {
    String magic = line(in);
    if (!MAGIC.equals(magic)) {
      throw new ProtocolException("not started by a ferry parent: stdin began with \"" + magic + "\"");
    }
    Address address = Address.parse(line(in));
    AuthKey key = AuthKey.fromHex(line(in));
    return Client.connect(address, options.toBuilder().authKey(key).build());
  }

  /** One line, read a byte at a time so that nothing after it is taken from the stream. */
  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) throw new ProtocolException("stdin ended before the parent's address and key");
      if (bytes.size() > 1024) throw new ProtocolException("stdin line over 1024 bytes");
      bytes.write(b);
    }
    return bytes.toString(StandardCharsets.US_ASCII).strip();
  }
}
