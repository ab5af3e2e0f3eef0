package dev.ferry.bench;

import dev.ferry.Address;
import dev.ferry.Client;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.Listener;
import dev.ferry.pickle.PickleCodec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The links a bench run measures through, each with its peer: a thread in this JVM (a JDK socket
 * pair, a {@code Pipe}, a connection through a listener) or a {@link Peer} JVM. Closing a link
 * quits its peer and waits for it.
 */
final class PeerLinks {
  private final Path dir;
  private final PickleCodec codec;
  private final Consumer<String> say;

  PeerLinks(Path dir, PickleCodec codec, Consumer<String> say) {
    this.dir = dir;
    this.codec = codec;
    this.say = say;
  }

  Link jdkLink() throws IOException {
    RawUnixLink[] pair = RawUnixLink.pair(dir.resolve("jdk.sock"));
    return withPeerThread(BenchRunner.JDK_UNIX, pair[0], pair[1]);
  }

  Link inProcessPeer(String name, Connection local, Connection remote) {
    return withPeerThread(name, new FerryLink(local), new FerryLink(remote));
  }

  Link listenerLink(String name, Address address) throws IOException {
    return listenerLink(name, address, FerryLink::new);
  }

  Link listenerLink(String name, Address address, LinkMaker driver) throws IOException {
    return listenerLink(name, address, ConnectionOptions.defaults(), driver);
  }

  /** A connection through a listener; {@code driver} makes the measuring side's link of it. */
  Link listenerLink(String name, Address address, ConnectionOptions options,
      LinkMaker driver) throws IOException {
    try (Listener listener = Listener.bind(address, options)) {
      Connection local = Client.connect(listener.address(), options);
      Connection remote = listener.accept(Duration.ofSeconds(10));
      return withPeerThread(name, driver.make(local), new FerryLink(remote));
    }
  }

  interface LinkMaker {
    Link make(Connection connection) throws IOException;
  }

  /** Serves {@code remote} on a thread; closing the returned link quits and joins it. */
  private Link withPeerThread(String name, Link local, Link remote) {
    Thread peer = BenchRunner.startThread("ferry-bench-peer " + name, () -> {
      try (remote) {
        PeerLoop.serve(remote, codec);
      } catch (IOException e) {
        say.accept("peer " + name + " failed: " + e);
      }
    });
    return new PeeredLink(local, () -> {
      PeerLoop.quit(local);
      peer.join(10_000);
    });
  }

  Link processLink(LinkMaker driver) throws IOException, InterruptedException {
    return processLink(driver, ConnectionOptions.defaults(), "peer.sock");
  }

  /** A connection to a {@link Peer} JVM through a listener with {@code options}; so it connects. */
  Link processLink(LinkMaker driver, ConnectionOptions options, String socket, String... peerArgs)
      throws IOException, InterruptedException {
    Address address = new Address.Unix(dir.resolve(socket));
    try (Listener listener = Listener.bind(address, options)) {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      if (Runtime.version().feature() >= 22) command.add("--enable-native-access=ALL-UNNAMED");
      command.addAll(List.of("-cp", System.getProperty("java.class.path"), Peer.class.getName(),
          address.toString()));
      command.addAll(List.of(peerArgs));
      // Our stdout carries the table: the peer's stdout is dropped, its stderr joins the progress.
      Process process = new ProcessBuilder(command)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .redirectError(ProcessBuilder.Redirect.INHERIT)
          .start();
      Connection local;
      try {
        local = listener.accept(Duration.ofSeconds(30));
      } catch (IOException e) {
        process.destroyForcibly();
        throw e;
      }
      Link link = driver.make(local);
      return new PeeredLink(link, () -> {
        PeerLoop.quit(link);
        if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly();
      });
    }
  }
}
