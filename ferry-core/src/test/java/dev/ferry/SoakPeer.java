package dev.ferry;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The sending side of {@link SoakTest}, in a process of its own: opens CONNECTIONS connections to
 * ADDRESS and sends MESSAGES messages spread over them, each
 *
 * <pre>
 *   0        8        12                       size
 *   +--------+--------+------------------------+
 *   | seq    | crc32c | bytes of a fixed pool  |   seq counts per connection from 0;
 *   +--------+--------+------------------------+   size and offset follow from seq
 * </pre>
 *
 * then one empty message per connection as the end. Usage: ADDRESS CONNECTIONS MESSAGES.
 */
public final class SoakPeer {
  static final int POOL = 1 << 18;
  private static final byte[] POOL_BYTES = pool();

  private SoakPeer() {}

  static byte[] pool() {
    byte[] pool = new byte[POOL + 4096];
    new java.util.Random(42).nextBytes(pool);
    return pool;
  }

  /** The payload size of message {@code seq}: mostly small, some medium, a few large. */
  static int size(long seq) {
    long h = seq * 0x9E3779B97F4A7C15L;
    int r = (int) ((h >>> 40) % 1000);
    int x = (int) ((h >>> 8) & 0xffffff);
    if (r < 900) return 12 + x % 256;
    if (r < 995) return 12 + x % 8192;
    return 12 + x % POOL;
  }

  static int offset(long seq) {
    return (int) ((seq * 7919) % 4096);
  }

  /** Fills {@code buffer} with message {@code seq} and returns its size. */
  static int message(long seq, byte[] buffer) {
    int size = size(seq);
    int body = size - 12;
    System.arraycopy(POOL_BYTES, offset(seq), buffer, 12, body);
    CRC32C crc = new CRC32C();
    crc.update(buffer, 12, body);
    ByteBuffer.wrap(buffer).putLong(seq).putInt((int) crc.getValue());
    return size;
  }

  public static void main(String[] args) throws Exception {
    Address address = Address.parse(args[0]);
    int connections = Integer.parseInt(args[1]);
    long messages = Long.parseLong(args[2]);
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < connections; i++) {
      long share = messages / connections + (i < messages % connections ? 1 : 0);
      Connection c = Client.connect(address);
      Thread t = new Thread(() -> {
        byte[] buffer = new byte[POOL + 12];
        try (c) {
          for (long seq = 0; seq < share; seq++) c.sendBytes(buffer, 0, message(seq, buffer));
          c.sendBytes(new byte[0]);
        } catch (Exception e) {
          e.printStackTrace();
          System.exit(1);
        }
      }, "soak-sender-" + i);
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) t.join();
    System.out.println("sent " + messages);
  }
}
