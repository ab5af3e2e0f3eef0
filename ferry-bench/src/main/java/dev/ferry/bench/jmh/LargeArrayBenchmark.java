package dev.ferry.bench.jmh;

import dev.ferry.Connection;
import dev.ferry.Pipe;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
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
 * One 32 MiB message through a {@link Pipe}, from and into a Java array or a direct buffer: a
 * second thread receives it into its own memory of the same kind and answers with one byte.
 * Junixsocket copies an array through a direct buffer; Ferry hands it over a window at a time
 * (SocketTransport.HEAP_WINDOW), which this measures against the direct case.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class LargeArrayBenchmark {
  @Param({"33554432"})
  public int size;

  @Param({"array", "direct"})
  public String memory;

  private Connection sender;
  private Connection receiver;
  private ByteBuffer message;
  private Thread echo;

  @Setup(Level.Trial)
  public void open() throws IOException {
    Pipe.Duplex pipe = Pipe.duplex();
    sender = pipe.first();
    receiver = pipe.second();
    boolean array = memory.equals("array");
    message = array ? ByteBuffer.wrap(new byte[size]) : ByteBuffer.allocateDirect(size);
    ByteBuffer into = array ? ByteBuffer.wrap(new byte[size]) : ByteBuffer.allocateDirect(size);
    echo = new Thread(() -> {
      try {
        while (true) {
          into.clear();
          receiver.receiveBytesInto(into);
          receiver.sendBytes(new byte[] {1});
        }
      } catch (EOFException e) {
        // the benchmark is over
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, "large-array-receiver");
    echo.start();
  }

  @TearDown(Level.Trial)
  public void close() throws Exception {
    sender.close();
    echo.join(10_000);
    receiver.close();
  }

  /** Sends the message and waits until the other thread has all of it. */
  @Benchmark
  public int sendAndReceive() throws IOException {
    message.clear();
    sender.sendBytes(message);
    return sender.receiveBytes().length;
  }
}
