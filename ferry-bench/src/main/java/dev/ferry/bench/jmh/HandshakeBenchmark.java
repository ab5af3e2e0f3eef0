package dev.ferry.bench.jmh;

import dev.ferry.Connection;
import dev.ferry.Pipe;
import dev.ferry.internal.auth.Handshake;
import dev.ferry.internal.auth.HandshakeChannel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Both sides of the modern HMAC handshake ({@code {sha256}} challenge, mutual) over one
 * {@link Pipe}: the server side on a helper thread, the client side on the benchmark thread.
 * Socket setup is not included; {@code ferry bench} measures connect + handshake.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HandshakeBenchmark {
  private static final byte[] KEY = "ferry-bench-key".getBytes(StandardCharsets.US_ASCII);

  private Pipe.Duplex pipe;
  private ExecutorService server;

  @Setup(Level.Trial)
  public void open() throws IOException {
    pipe = Pipe.duplex();
    server = Executors.newSingleThreadExecutor(r -> new Thread(r, "ferry-bench-handshake"));
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    server.shutdownNow();
    pipe.close();
  }

  @Benchmark
  public void bothSides() throws IOException, InterruptedException, ExecutionException {
    Future<?> serverSide = server.submit(() -> {
      Handshake.serverSide(channel(pipe.second()), KEY);
      return null;
    });
    Handshake.clientSide(channel(pipe.first()), KEY);
    serverSide.get();
  }

  private static HandshakeChannel channel(Connection connection) {
    return new HandshakeChannel() {
      @Override
      public void sendMessage(byte[] message) throws IOException {
        connection.sendBytes(message);
      }

      @Override
      public byte[] receiveMessage(int maxLength) throws IOException {
        return connection.receiveBytes(maxLength);
      }
    };
  }
}
