package dev.ferry;

import dev.ferry.internal.connection.FramedConnection;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * A misbehaving peer in a process of its own, started by {@link FaultTest} with the test class
 * path. It prints {@code ready} once it is where the test wants it (then the test may kill it),
 * and answers on stdout.
 *
 * <pre>
 *   mid-message ADDRESS          connects, sends a header for 1 MiB and 1000 bytes of it, waits
 *   mid-handshake ADDRESS        connects raw, reads the challenge, answers half of it, waits
 *   stall-then-drain ADDRESS     connects, reads nothing until a line on stdin, then counts the
 *                                whole messages it can read and prints "received N"
 *   half-close ADDRESS           connects, sends 3 messages, shuts its output down, then prints
 *                                every message it receives as "got TEXT" until the end
 *   server-mid-handshake ADDRESS listens (tcp port 0 or a unix path), prints its address, accepts
 *                                one client, sends half a challenge, waits
 * </pre>
 */
public final class FaultPeer {
  private FaultPeer() {}

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    Address address = Address.parse(args[1]);
    switch (mode) {
      case "mid-message" -> {
        SocketChannel raw = raw(address);
        ByteBuffer b = ByteBuffer.allocate(4 + 1000).putInt(1 << 20);
        write(raw, b.position(0));
        ready();
        Thread.sleep(Long.MAX_VALUE);
      }
      case "mid-handshake" -> {
        SocketChannel raw = raw(address);
        ByteBuffer challenge = ByteBuffer.allocate(4 + 59);
        while (challenge.hasRemaining()) if (raw.read(challenge) < 0) throw new IOException("eof");
        write(raw, ByteBuffer.wrap(HexFormat.of().parseHex("00000028" + "7b7368613235367d")));
        ready();
        Thread.sleep(Long.MAX_VALUE);
      }
      case "stall-then-drain" -> {
        try (Connection c = Client.connect(address)) {
          ready();
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
          long count = 0;
          try {
            while (true) {
              c.receiveBytes();
              count++;
            }
          } catch (IOException end) {
            System.out.println("received " + count + " then " + end.getClass().getSimpleName());
          }
        }
      }
      case "half-close" -> {
        try (Connection c = Client.connect(address)) {
          for (int i = 0; i < 3; i++) c.sendBytes(("m" + i).getBytes(StandardCharsets.UTF_8));
          FramedConnection e = (FramedConnection) c;
          ((SocketChannel) e.selectableChannel()).shutdownOutput();
          ready();
          try {
            while (true) {
              System.out.println("got " + new String(c.receiveBytes(), StandardCharsets.UTF_8));
            }
          } catch (java.io.EOFException end) {
            System.out.println("end");
          }
        }
      }
      case "server-mid-handshake" -> {
        java.nio.channels.ServerSocketChannel server =
            dev.ferry.internal.transport.Sockets.bind(address, 1);
        server.configureBlocking(true);
        Address bound = dev.ferry.internal.transport.Sockets.boundAddress(address, server);
        System.out.println(bound);
        System.out.flush();
        SocketChannel client = server.accept();
        client.configureBlocking(true);
        write(client, ByteBuffer.wrap(HexFormat.of().parseHex("0000003b" + "234348414c4c454e474523")));
        ready();
        Thread.sleep(Long.MAX_VALUE);
      }
      default -> throw new IllegalArgumentException("unknown mode: " + mode);
    }
    System.out.flush();
  }

  private static void ready() {
    System.out.println("ready");
    System.out.flush();
  }

  private static SocketChannel raw(Address address) throws IOException {
    if (address instanceof Address.Unix unix) {
      return AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(unix.path()));
    }
    Address.Tcp tcp = (Address.Tcp) address;
    return SocketChannel.open(new java.net.InetSocketAddress(tcp.host(), tcp.port()));
  }

  private static void write(SocketChannel c, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) c.write(b);
  }
}
