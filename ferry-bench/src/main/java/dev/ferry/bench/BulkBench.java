package dev.ferry.bench;

import dev.ferry.Address;
import dev.ferry.Connection;
import dev.ferry.Listener;
import dev.ferry.Pipe;
import dev.ferry.pickle.Bulk;
import dev.ferry.pickle.PickleCodec;
import dev.ferry.pickle.SharedBuffer;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The bulk rows of {@code ferry bench} (docs/BULK.md): a 256 MiB float64 numpy array's round
 * trip from CPython through a Java bulk echo and back, out of band (copied into shared memory by
 * each send, or living there from the start) and in band through the same server, and a 1 GiB buffer between two JVM threads over a {@code Pipe}, allocated, filled, sent,
 * received and read, beside one 1 GiB copy in the same run: into fresh memory (the reference: the
 * bulk path too gets 1 GiB of new memory, and a fresh page's first touch costs more than its copy
 * on many machines), and into memory touched before (the floor).
 *
 * <p>The echo is {@code ferry echo --codec pickle --bulk}'s code path (ferry-cli's
 * {@code BulkEcho}, which this module cannot depend on) in this process: a thread per client,
 * bulk messages answered with the memory that came in, plain pickles re-encoded.
 */
final class BulkBench {
  static final String NUMPY = "bulk 256 MiB numpy, Python→Java→Python";
  static final String ONE_GIB = "bulk 1 GiB, Java↔Java";
  static final String OUT_OF_BAND = "ferry_bulk → Java bulk echo, out of band";
  static final String SHARED = "ferry_bulk, array in a ferry_bulk.SharedBuffer: no copy";
  static final String IN_BAND = "Connection.send → same echo, in band";
  static final String JAVA_BULK = "Ferry Pipe, SharedBuffer allocate+fill+send+receive+read";
  static final String MEMCPY = "one 1 GiB copy into fresh memory, allocateDirect+put";
  static final String MEMCPY_TOUCHED = "one 1 GiB copy into touched memory, put";
  static final Metric MILLIS = new Metric("time", "ms", false);

  private static final int NUMPY_MIB = 256;
  private static final int ONE_GIB_BYTES = 1 << 30;
  private static final Bulk BULK = Bulk.of(PickleCodec.standard());

  private BulkBench() {}

  /** Adds the bulk cases to {@code runner}; {@code python} must have numpy (3.11 here). */
  static void plan(BenchRunner runner, Path dir, Optional<Path> python, boolean quick) {
    int roundTrips = quick ? 2 : 4;
    if (python.isEmpty()) {
      runner.addCase(NUMPY, OUT_OF_BAND, List.of(MILLIS), () -> {
        throw new BenchRunner.SkipException("skipped: no CPython 3.11 (with numpy)");
      });
    } else {
      runner.addCase(NUMPY, OUT_OF_BAND, List.of(MILLIS),
          () -> new double[] {numpyRoundTrip(python.get(), dir, "bulk", roundTrips)});
      runner.addCase(NUMPY, SHARED, List.of(MILLIS),
          () -> new double[] {numpyRoundTrip(python.get(), dir, "shared", roundTrips)});
      runner.addCase(NUMPY, IN_BAND, List.of(MILLIS),
          () -> new double[] {numpyRoundTrip(python.get(), dir, "inband", roundTrips)});
      runner.reference(NUMPY, IN_BAND);
    }
    runner.addCase(ONE_GIB, JAVA_BULK, List.of(MILLIS), () -> new double[] {javaBulk()});
    runner.addCase(ONE_GIB, MEMCPY, List.of(MILLIS), () -> new double[] {memcpy(true)});
    runner.addCase(ONE_GIB, MEMCPY_TOUCHED, List.of(MILLIS), () -> new double[] {memcpy(false)});
    runner.reference(ONE_GIB, MEMCPY);
  }

  /** Milliseconds per round trip, as the Python client measured them. */
  private static double numpyRoundTrip(Path python, Path dir, String mode, int count)
      throws Exception {
    Path helpers = Files.createDirectories(dir.resolve("bulk-helpers"));
    References.extract(PickleCodec.class, "ferry_bulk.py", helpers);
    Path script = References.extract("bulk_bench.py", helpers);
    Path socket = dir.resolve("bulk-" + mode + ".sock");
    try (Listener listener = Listener.bind(new Address.Unix(socket))) {
      CompletableFuture<Void> served = CompletableFuture.runAsync(() -> serve(listener));
      long elapsed = References.field(References.run(References.command(python, script,
          helpers.toString(), socket.toString(), mode, count, NUMPY_MIB)), "elapsed_ns");
      served.get(60, TimeUnit.SECONDS);
      releaseMappings();
      return elapsed / 1e6 / count;
    }
  }

  /** One client, answered as {@code ferry echo --codec pickle --bulk} answers. */
  private static void serve(Listener listener) {
    try (Connection client = listener.accept()) {
      while (true) {
        try (Bulk.Message message = BULK.receiveMessage(client)) {
          if (message.isBulk()) {
            BULK.send(client, message.value(), message);
          } else {
            client.send(message.value(), PickleCodec.standard()
                .withProtocol(Math.max(2, Math.min(5, message.protocol()))));
          }
        }
      }
    } catch (EOFException e) {
      // the client is done
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * Milliseconds to allocate 1 GiB of shared memory, fill it, send it over a Pipe, receive it on
   * another thread and read every byte there (a checksum, which is compared).
   */
  static double javaBulk() throws Exception {
    long[] chunk = new long[1 << 17];
    for (int i = 0; i < chunk.length; i++) chunk[i] = i;
    try (Pipe.Duplex pipe = Pipe.duplex()) {
      CompletableFuture<Long> read = CompletableFuture.supplyAsync(() -> {
        try {
          return checksum((ByteBuffer) BULK.receive(pipe.second()));
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      long start = System.nanoTime();
      try (SharedBuffer buffer = SharedBuffer.allocate(ONE_GIB_BYTES)) {
        LongBuffer longs = buffer.buffer().asLongBuffer();
        while (longs.hasRemaining()) longs.put(chunk);
        BULK.send(pipe.first(), buffer);
      }
      long sum = read.get(120, TimeUnit.SECONDS);
      long elapsed = System.nanoTime() - start;
      releaseMappings();
      long expected = (long) ONE_GIB_BYTES / 8 / chunk.length * ((long) chunk.length * (chunk.length - 1) / 2);
      if (sum != expected) throw new IllegalStateException("checksum " + sum + " != " + expected);
      return elapsed / 1e6;
    }
  }

  /**
   * Java 17 unmaps only when the collector frees a mapping: collect between trials, outside the
   * timing, so that one trial's gigabyte is not still pinned during the next.
   */
  private static void releaseMappings() throws InterruptedException {
    System.gc();
    Thread.sleep(200);
  }

  private static long checksum(ByteBuffer bytes) {
    LongBuffer longs = bytes.asLongBuffer();
    long sum = 0;
    for (int i = 0, n = longs.limit(); i < n; i++) sum += longs.get(i);
    return sum;
  }

  /**
   * Milliseconds for one {@code put} of a 1 GiB direct buffer into another: with {@code fresh},
   * the time includes allocating the target (which zeroes it, taking each page's first touch).
   */
  static double memcpy(boolean fresh) throws InterruptedException {
    ByteBuffer from = ByteBuffer.allocateDirect(ONE_GIB_BYTES);
    ByteBuffer to = fresh ? null : ByteBuffer.allocateDirect(ONE_GIB_BYTES);
    long start = System.nanoTime();
    if (fresh) to = ByteBuffer.allocateDirect(ONE_GIB_BYTES);
    to.put(from);
    long elapsed = System.nanoTime() - start;
    if (to.position() != ONE_GIB_BYTES) throw new IllegalStateException("short copy");
    releaseMappings();
    return elapsed / 1e6;
  }
}
