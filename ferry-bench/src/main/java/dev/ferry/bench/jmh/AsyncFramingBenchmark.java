package dev.ferry.bench.jmh;

import dev.ferry.Pipe;
import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A small message each way through an event loop: {@code sendAsync} on one end of a {@link Pipe}
 * (the loop writes it), a blocking receive and reply at the other, {@code receiveAsync} back (the
 * loop reads it). The event loops' write and read paths, with their message counting and their
 * JFR checks, per round trip.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AsyncFramingBenchmark {
  @Param({"64"})
  public int size;

  private EventLoops loops;
  private Pipe.Duplex pipe;
  private AsyncConnection async;
  private byte[] message;

  @Setup(Level.Trial)
  public void open() throws IOException {
    loops = EventLoops.open();
    pipe = Pipe.duplex();
    async = AsyncConnection.of(pipe.first(), loops);
    message = new byte[size];
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    async.close();
    pipe.close();
    loops.close();
  }

  /** One message out through the loop and one back in through it. */
  @Benchmark
  public int roundTrip() throws Exception {
    async.sendAsync(message);
    byte[] request = pipe.second().receiveBytes();
    pipe.second().sendBytes(request);
    return async.receiveAsync().get().length;
  }
}
