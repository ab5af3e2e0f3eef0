package dev.ferry.bench.jmh;

import dev.ferry.Address;
import dev.ferry.Client;
import dev.ferry.Connection;
import dev.ferry.Listener;
import dev.ferry.Pipe;
import java.io.IOException;
import java.time.Duration;
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
 * Frame encode and decode through a {@link Pipe} (junixsocket) or a TCP loopback connection (the
 * JDK's channels): one thread sends a message and receives it at the other end with
 * {@code receiveBytesInto} into its own buffer. The socket buffer holds the frame in between, so
 * no thread waits. Run with {@code -prof gc}: {@code gc.alloc.rate.norm} is the bytes allocated
 * per send+receive: 0 for Ferry's own code, which TCP shows; junixsocket adds its own per call.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FramingBenchmark {
  @Param({"64"})
  public int size;

  @Param({"pipe", "tcp"})
  public String transport;

  private Connection first;
  private Connection second;
  private ByteBuffer message;
  private ByteBuffer received;
  private byte[] receivedArray;

  @Setup(Level.Trial)
  public void open() throws IOException {
    if (transport.equals("tcp")) {
      try (Listener listener = Listener.bind(Address.parse("tcp:127.0.0.1:0"))) {
        first = Client.connect(listener.address());
        second = listener.accept(Duration.ofSeconds(10));
      }
    } else {
      Pipe.Duplex pipe = Pipe.duplex();
      first = pipe.first();
      second = pipe.second();
    }
    message = ByteBuffer.allocateDirect(size);
    received = ByteBuffer.allocateDirect(size);
    receivedArray = new byte[size];
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    first.close();
    second.close();
  }

  /** Send from a direct buffer, receive into a caller's direct buffer. */
  @Benchmark
  public int sendAndReceiveIntoBuffer() throws IOException {
    message.clear();
    first.sendBytes(message);
    received.clear();
    return second.receiveBytesInto(received);
  }

  /** Send from a direct buffer, receive into a caller's array (Python: recv_bytes_into). */
  @Benchmark
  public int sendAndReceiveIntoArray() throws IOException {
    message.clear();
    first.sendBytes(message);
    return second.receiveBytesInto(receivedArray, 0);
  }

  /** The allocating form, for comparison: receiveBytes returns a new array. */
  @Benchmark
  public byte[] sendAndReceiveBytes() throws IOException {
    message.clear();
    first.sendBytes(message);
    return second.receiveBytes();
  }
}
