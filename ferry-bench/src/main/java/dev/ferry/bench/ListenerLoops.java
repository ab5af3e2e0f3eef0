package dev.ferry.bench;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.Client;
import dev.ferry.ConnectionOptions;
import dev.ferry.Listener;
import dev.ferry.Pipe;
import dev.ferry.Receiver;
import dev.ferry.Wait;
import dev.ferry.WaitSet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The in-process loops of the handshake and wait workloads: no peer process, no reference link. */
final class ListenerLoops {
  private ListenerLoops() {}

  static long handshakeLoop(int count) throws Exception {
    ConnectionOptions keyed = ConnectionOptions.builder()
        .authKey(AuthKey.of("ferry-bench-key".getBytes(StandardCharsets.US_ASCII))).build();
    Address address = new Address.Abstract("ferry-bench-hs-" + ProcessHandle.current().pid());
    try (Listener listener = Listener.bind(address, keyed)) {
      Thread server = BenchRunner.startThread("ferry-bench-accept", () -> {
        try {
          for (int i = 0; i < count; i++) listener.accept().close();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
      long start = System.nanoTime();
      for (int i = 0; i < count; i++) Client.connect(address, keyed).close();
      server.join();
      return System.nanoTime() - start;
    }
  }

  /**
   * Nanoseconds for {@code calls} waits over {@code n} pipes of which the last is readable, with
   * {@link Wait#ready} or with one {@link WaitSet} kept across calls.
   */
  static long waitLoop(int n, int calls, boolean keepSet) throws IOException {
    List<Pipe.Duplex> pipes = new ArrayList<>(n);
    try (WaitSet<Receiver> set = WaitSet.open()) {
      for (int i = 0; i < n; i++) pipes.add(Pipe.duplex());
      pipes.get(n - 1).second().sendBytes(new byte[] {1});
      List<Receiver> receivers = new ArrayList<>(n);
      for (Pipe.Duplex pipe : pipes) receivers.add(pipe.first());
      for (Receiver r : receivers) set.add(r);
      BenchRunner.Trial wait = keepSet ? () -> new double[] {set.ready().size()}
          : () -> new double[] {Wait.ready(receivers).size()};
      try {
        for (int i = 0; i < Math.max(1, calls / 4); i++) wait.run(); // warm-up
        long start = System.nanoTime();
        for (int i = 0; i < calls; i++) {
          if (wait.run()[0] != 1) throw new IOException("expected one ready");
        }
        return System.nanoTime() - start;
      } catch (IOException | RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IOException(e);
      }
    } finally {
      for (Pipe.Duplex pipe : pipes) pipe.close();
    }
  }
}
