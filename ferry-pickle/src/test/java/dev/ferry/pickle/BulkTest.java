package dev.ferry.pickle;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.Pipe;
import dev.ferry.codec.CodecException;
import dev.ferry.handle.ChildProcess;
import dev.ferry.internal.connection.DescriptorChannel;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bulk messages between Java and CPython (ferry_bulk.py) and between two JVM ends: large buffers
 * arrive as read-only views of mapped shared memory, older Pythons fall back to plain pickles, and
 * lying peers get clear errors with the stream left in step and nothing leaked.
 */
class BulkTest {
  private static final Bulk BULK = Bulk.of(PickleCodec.standard());
  private Path dir;

  @BeforeEach
  void scripts() throws IOException {
    dir = Files.createTempDirectory("ferry-bulk-test-");
    copy("/python/bulk_child.py", dir.resolve("bulk_child.py"));
    copy("/dev/ferry/pickle/ferry_bulk.py", dir.resolve("ferry_bulk.py"));
  }

  @AfterEach
  void removeScripts() throws IOException {
    try (var files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) Files.delete(p);
    }
    Files.delete(dir);
  }

  @ParameterizedTest
  @ValueSource(strings = {"3.8.18", "3.11.7", "3.13.0"})
  void largeBuffersCrossBothWaysAsReadOnlyMappedViews(String version) throws Exception {
    boolean numpy = version.equals("3.11.7");
    try (ChildProcess child = start(version, "echo");
        SharedBuffer shared = SharedBuffer.allocate(3 << 20)) {
      shared.buffer().put(0, (byte) 7).put((3 << 20) - 1, (byte) 9);
      Map<String, Object> message = new HashMap<>();
      message.put("bytes", filled(2 << 20, (byte) 'j'));
      message.put("buffer", ByteBuffer.wrap(filled(1 << 20, (byte) 'k')));
      message.put("shared", shared);
      message.put("small", filled(100, (byte) 's'));
      double[] values = new double[400_000];
      Arrays.setAll(values, i -> i * 0.5);
      if (numpy) message.put("array", NdArray.of(NdArray.DType.FLOAT64, new int[] {400, 1000}, values));
      BULK.send(child.connection(), message);

      Map<?, ?> reply = (Map<?, ?>) BULK.receive(child.connection());
      Map<?, ?> types = (Map<?, ?>) reply.get("types");
      // Java 17's memory is unsealed, so Python copies it out; JDK 22+ seals its size: mapped
      String view = Runtime.version().feature() >= 22 ? " mmap" : " bytearray";
      assertEquals("memoryview 2097152 readonly=True" + view, types.get("bytes"));
      assertEquals("memoryview 1048576 readonly=True" + view, types.get("buffer"));
      assertEquals("memoryview 3145728 readonly=True" + view, types.get("shared"));
      assertEquals("bytes", types.get("small"));
      Map<?, ?> echo = (Map<?, ?>) reply.get("echo");
      ByteBuffer shared2 = (ByteBuffer) echo.get("shared");
      assertTrue(shared2.isReadOnly() && shared2.isDirect());
      assertEquals(7, shared2.get(0));
      assertEquals(9, shared2.get((3 << 20) - 1));
      assertEquals(ByteBuffer.wrap(filled(2 << 20, (byte) 'j')), echo.get("bytes"));
      if (numpy) {
        assertEquals("ndarray float64 (400, 1000) writeable=False", types.get("array"));
        NdArray back = (NdArray) echo.get("array");
        assertTrue(back.inBuffer() && back.buffer().isReadOnly() && back.buffer().isDirect());
        assertArrayEquals(values, (double[]) back.data());
      }

      Map<?, ?> own = (Map<?, ?>) BULK.receive(child.connection());
      assertEquals(ByteBuffer.wrap(filled(2 << 20, (byte) 'p')), own.get("bytes"));
      assertTrue(((ByteBuffer) own.get("bytearray")).isReadOnly());
      assertEquals(3 << 20, ((ByteBuffer) own.get("bytearray")).remaining());
      assertArrayEquals(filled(100, (byte) 's'), (byte[]) own.get("small"));
      if (numpy) {
        NdArray array = (NdArray) own.get("array");
        assertTrue(array.inBuffer() && array.buffer().isReadOnly());
        assertArrayEquals(new int[] {1000, 500}, array.shape());
        assertEquals(499_999.0, array.buffer().getDouble(8 * 499_999));
        NdArray fortran = (NdArray) own.get("fortran"); // reordered into C order: a copy
        assertEquals(512 + 3, ((long[]) fortran.data())[512 + 3]);
      }
      BULK.send(child.connection(), own);
      String described = new String(child.connection().receiveBytes(), UTF_8);
      // receive() closed the descriptors: sending goes through new memory of Java's own
      assertTrue(described.contains("('bytes', 'memoryview 2097152 readonly=True" + view + "')"),
          described);
      if (numpy) {
        assertTrue(described.contains("ndarray float64 (1000, 500) writeable=False"), described);
      }
      assertEquals(0, child.closeAndWait(Duration.ofSeconds(30)));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"2.7.18", "3.7.16"})
  void olderPythonsExchangePlainPicklesThroughTheSameCalls(String version) throws Exception {
    try (ChildProcess child = start(version, "echo")) {
      PickleCodec plain = PickleCodec.standard().withProtocol(2);
      child.connection().send(Map.of("bytes", filled(2 << 20, (byte) 'j')), plain);
      Map<?, ?> reply = (Map<?, ?>) BULK.receive(child.connection());
      Object bytes = ((Map<?, ?>) reply.get("echo")).get("bytes");
      // Python 2 reads bytes as str, and sends str back
      byte[] echoed = bytes instanceof String s ? s.getBytes(StandardCharsets.ISO_8859_1)
          : (byte[]) bytes;
      assertArrayEquals(filled(2 << 20, (byte) 'j'), echoed);
      Map<?, ?> own = (Map<?, ?>) BULK.receive(child.connection());
      assertEquals(3 << 20, ((PyBytearray) own.get("bytearray")).length());
      child.connection().send(own, plain);
      String described = new String(child.connection().receiveBytes(), UTF_8);
      assertTrue(described.contains("bytearray"), described);
      assertEquals(0, child.closeAndWait(Duration.ofSeconds(30)));
    }
  }

  @Test
  void aThousandBulkMessagesLeaveDescriptorsAndMappingsWhereTheyStarted() throws Exception {
    int n = 1000;
    try (ChildProcess child = start("3.11.7", "count", String.valueOf(n))) {
      echo(child, 1);
      long[] before = javaCounts();
      echo(child, n);
      String[] python = new String(child.connection().receiveBytes(), UTF_8).split(" ");
      assertEquals(python[0], python[2], "python descriptors before and after");
      assertEquals(python[1], python[3], "python shared memory mappings before and after");
      assertEquals("0", python[3]);
      assertCountsBackTo(before);
      assertEquals(0, child.closeAndWait(Duration.ofSeconds(30)));
    }
  }

  private static void echo(ChildProcess child, int messages) throws IOException {
    for (int i = 0; i < messages; i++) {
      try (Bulk.Message m = BULK.receiveMessage(child.connection())) {
        assertTrue(m.isBulk());
        BULK.send(child.connection(), m.value(), m);
      }
    }
  }

  @Test
  void anAnswerSendsTheReceivedMemoryBackAsItIs() throws Exception {
    try (Pipe.Duplex pipe = Pipe.duplex(); SharedBuffer shared = SharedBuffer.allocate(4 << 20)) {
      NdArray array = shared.ndarray(NdArray.DType.INT64, 512, 1024);
      array.buffer().asLongBuffer().put(5, 42);
      BULK.send(pipe.first(), List.of(array, shared));
      try (Bulk.Message m = BULK.receiveMessage(pipe.second())) {
        assertEquals(2, m.buffers());
        BULK.send(pipe.second(), m.value(), m);
      }
      List<?> back = (List<?>) BULK.receive(pipe.first());
      NdArray arrayBack = (NdArray) back.get(0);
      assertEquals(42, arrayBack.buffer().getLong(8 * 5));
      shared.buffer().putLong(8 * 5, 43); // the same pages, not a copy
      assertEquals(43, arrayBack.buffer().getLong(8 * 5));
      assertEquals(43, ((ByteBuffer) back.get(1)).getLong(8 * 5));
    }
  }

  @Test
  void anAnsweredBufferSendsTheBytesFromItsPositionAsACopyWould() throws Exception {
    try (Pipe.Duplex pipe = Pipe.duplex(); SharedBuffer shared = SharedBuffer.allocate(2 << 20)) {
      for (int i = 0; i < 2 << 20; i += 8) shared.buffer().putLong(i, i);
      BULK.send(pipe.first(), shared);
      try (Bulk.Message m = BULK.receiveMessage(pipe.second())) {
        ByteBuffer got = (ByteBuffer) m.value();
        assertEquals(0, got.getLong()); // a relative read: the position moves on to 8
        got.limit(got.limit() - 8);
        BULK.withThreshold(1024).send(pipe.second(), got, m);
      }
      ByteBuffer back = (ByteBuffer) BULK.receive(pipe.first());
      assertEquals((2 << 20) - 16, back.remaining());
      assertEquals(8, back.getLong(0));
      assertEquals((2 << 20) - 16, back.getLong(back.limit() - 8));
    }
  }

  @Test
  void aMessageRefusedByAnErrorStillClosesEveryDescriptor() throws Exception {
    // HotSpot's answer to reading memory a peer shrank: what a mapping that reads it would throw
    PyObject box = PyObject.of(new PyGlobal("m", "Box"), PyObject.Construction.NEW,
        PyTuple.empty(), Map.of());
    PickleMapping<Thread> faulting = PickleMapping.of("m.Box", Thread.class, o -> {
      throw new InternalError("a fault occurred in an unsafe memory access operation");
    }, v -> box);
    Bulk bulk = Bulk.of(PickleCodec.builder().register(faulting).build());
    try (Pipe.Duplex pipe = Pipe.duplex()) {
      long[] before = javaCounts();
      for (int i = 0; i < 2; i++) {
        boolean keep = i == 1;
        bulk.send(pipe.first(), List.of(filled(2 << 20, (byte) 1), box));
        assertThrows(InternalError.class, () -> {
          if (keep) bulk.receiveMessage(pipe.second()); else bulk.receive(pipe.second());
        });
      }
      assertCountsBackTo(before);
    }
  }

  @Test
  void moreDescriptorsThanAJavaReadTakesCloseTheConnectionInsteadOfLeavingItOutOfStep()
      throws Exception {
    try (Pipe.Duplex pipe = Pipe.duplex(); SharedBuffer shared = SharedBuffer.allocate(4096)) {
      FileDescriptor[] many = new FileDescriptor[61];
      Arrays.fill(many, shared.descriptor());
      // A frame longer than one read, with one descriptor more than junixsocket makes room for
      DescriptorChannel.of(pipe.first()).sendWithDescriptors(new byte[100_000], many);
      pipe.first().sendBytes(PickleCodec.standard().dumps("next"));
      IOException lost = assertThrows(IOException.class, () -> BULK.receive(pipe.second()));
      assertTrue(lost.getMessage().endsWith("; the connection is closed, since a failed read may"
          + " have taken bytes of the stream"), lost.getMessage());
      // Not the rest of the lost frame read as frames: the connection is closed
      assertThrows(dev.ferry.ConnectionClosedException.class, () -> BULK.receive(pipe.second()));
    }
  }

  /** A plain file on disk, the descriptor that is not shared memory; removed when the JVM exits. */
  private static RandomAccessFile diskFile() throws IOException {
    java.io.File file = Files.createTempFile("ferry-disk-", "").toFile();
    file.deleteOnExit();
    return new RandomAccessFile(file, "rw");
  }

  @Test
  void lyingPeersGetClearErrorsAndTheStreamStaysInStep() throws Exception {
    try (Pipe.Duplex pipe = Pipe.duplex(); SharedBuffer small = SharedBuffer.allocate(4096);
        RandomAccessFile disk = diskFile()) {
      DescriptorChannel to = DescriptorChannel.of(pipe.first());
      byte[] pickle = PickleCodec.standard().dumps("next");
      long[] before = javaCounts();
      List<String> errors = new ArrayList<>();
      for (Object[] lie : lies(small.descriptor(), disk.getFD())) {
        to.sendWithDescriptors((byte[]) lie[0], (FileDescriptor[]) lie[1]);
        boolean keep = errors.size() % 2 == 1; // both receives, every other lie
        errors.add(assertThrows(CodecException.class, () -> {
          if (keep) BULK.receiveMessage(pipe.second()); else BULK.receive(pipe.second());
        }).getMessage());
        pipe.first().sendBytes(pickle);
        assertEquals("next", BULK.receive(pipe.second()));
      }
      assertEquals(List.of(
          "bulk message names 2 buffers but came with 1 descriptors",
          "bulk buffers 61 > limit 60",
          "bulk buffer 0 of 18446744073709551615 bytes > limit 2147483647 (one Java mapping)",
          "bulk buffer 0: buffer of 8192 bytes at 0 lies outside the 4096 bytes of shared memory sent",
          "plain message came with 1 descriptors",
          "bulk flags not 0: 1",
          "pickle asks for out-of-band buffer 2 of 1"), errors.subList(0, 7));
      assertTrue(errors.get(7).matches("bulk buffer 0: descriptor \\d+ is not shared memory: /tmp/ferry-disk-.*"),
          errors.get(7));
      assertCountsBackTo(before);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"3.8.18", "3.13.0"})
  void lyingJavaPeersGetClearErrorsInPython(String version) throws Exception {
    try (ChildProcess child = start(version, "hostile", "5"); SharedBuffer small = SharedBuffer.allocate(4096);
        RandomAccessFile disk = diskFile()) {
      DescriptorChannel to = DescriptorChannel.of(child.connection());
      List<Object[]> lies = lies(small.descriptor(), disk.getFD());
      for (int i : new int[] {0, 3, 4, 7}) to.sendWithDescriptors((byte[]) lies.get(i)[0], (FileDescriptor[]) lies.get(i)[1]);
      child.connection().sendBytes(PickleCodec.standard().dumps("in step"));
      String[] results = new String(child.connection().receiveBytes(), UTF_8).split("\n");
      assertEquals("BulkError: bulk message names 2 buffers but came with 1 descriptors", results[0]);
      assertEquals("BulkError: bulk buffer 0 of 8192 bytes at 0 lies outside the 4096 bytes of"
          + " shared memory sent", results[1]);
      assertEquals("BulkError: plain message came with 1 descriptors", results[2]);
      // As Java words it: the descriptor and what it is
      assertTrue(results[3].matches("BulkError: bulk buffer 0: descriptor \\d+ is not shared memory:"
          + " /tmp/ferry-disk-.*"), results[3]);
      assertEquals("ok", results[4]);
      assertEquals("fds same", results[5]);
      assertEquals(0, child.closeAndWait(Duration.ofSeconds(30)));
    }
  }

  @Test
  void sixtyBuffersCrossAndASixtyFirstIsRefusedBeforeAnythingIsSent() throws Exception {
    try (Pipe.Duplex pipe = Pipe.duplex()) {
      Bulk small = BULK.withThreshold(1024);
      List<Object> buffers = new ArrayList<>();
      for (int i = 0; i < 60; i++) buffers.add(filled(1024, (byte) i));
      long[] before = javaCounts();
      small.send(pipe.first(), buffers);
      List<?> back = (List<?>) small.receive(pipe.second());
      assertEquals(60, back.size());
      assertEquals(59, ((ByteBuffer) back.get(59)).get(1023));
      buffers.add(filled(1024, (byte) 60));
      assertEquals("bulk buffers 61 > limit 60 (descriptors a Java receiver takes with one message)",
          assertThrows(CodecException.class, () -> small.send(pipe.first(), buffers)).getMessage());
      pipe.first().sendBytes(PickleCodec.standard().dumps("next"));
      assertEquals("next", small.receive(pipe.second()));
      back = null;
      assertCountsBackTo(before);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"3.8.18", "3.13.0"})
  void pythonSendsAtMostSixtyBuffersAndHeldViewsKeepNoDescriptorsFromThreeThirteen(String version)
      throws Exception {
    try (ChildProcess child = start(version, "limit")) {
      try (Bulk.Message m = BULK.receiveMessage(child.connection())) {
        assertEquals(60, m.buffers());
        // Python's own sealed memory goes back, which Python maps
        BULK.withThreshold(1024).send(child.connection(), m.value(), m);
      }
      String[] results = new String(child.connection().receiveBytes(), UTF_8).split("\n");
      assertEquals("bulk buffers 61 > limit 60 (descriptors a Java receiver takes with one message)",
          results[0]);
      assertEquals("60 59", results[1]);
      // Before 3.13 every mmap keeps a duplicate of its descriptor (docs/BULK.md)
      assertEquals(version.equals("3.13.0") ? "0" : "60", results[2]);
      assertEquals(0, child.closeAndWait(Duration.ofSeconds(30)));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"3.8.18", "3.13.0"})
  void pythonSendsSmallAndStridedMemoryviewsAsTheirBytes(String version) throws Exception {
    try (ChildProcess child = start(version, "views")) {
      try (Bulk.Message m = BULK.receiveMessage(child.connection())) {
        Map<?, ?> got = (Map<?, ?>) m.value();
        assertEquals(ByteBuffer.wrap("tiny".getBytes(UTF_8)), got.get("small"));
        ByteBuffer strided = (ByteBuffer) got.get("strided");
        assertEquals(1 << 20, strided.remaining());
        assertEquals('a', strided.get(1 << 19));
        assertEquals(1, m.buffers());
        BULK.send(child.connection(), m.value(), m);
      }
      String described = new String(child.connection().receiveBytes(), UTF_8);
      // Java sends a small ByteBuffer in band as bytes
      assertTrue(described.contains("('small', 'bytes')"), described);
      assertTrue(described.contains("('strided', 'memoryview 1048576 readonly=True"), described);
      assertEquals(0, child.closeAndWait(Duration.ofSeconds(30)));
    }
  }

  @Test
  void maxlengthBoundsABulkMessageWithItsBuffersAndAnOverlongFrameIsAnOSError()
      throws Exception {
    try (ChildProcess child = start("3.13.0", "maxlength")) {
      // maxlength bounds a bulk message with its buffers, and refuses it with the stream in step
      BULK.send(child.connection(), filled(2 << 20, (byte) 1));
      child.connection().sendBytes(PickleCodec.standard().dumps("next"));
      child.connection().sendBytes(PickleCodec.standard().dumps("more than ten bytes"));
      String[] results = new String(child.connection().receiveBytes(), UTF_8).split("\n");
      assertTrue(results[0].matches("BulkError: bulk message of 2097\\d{3} bytes with its"
          + " buffers > maxlength 1048576"), results[0]);
      assertEquals("received 'next'", results[1]);
      assertEquals("OSError: bad message length: 34 > maxlength 10", results[2]);
      assertEquals(0, child.closeAndWait(Duration.ofSeconds(30)));
    }
  }

  @Test
  void badArgumentsAreRefusedByName() throws Exception {
    assertEquals("threshold < 1: 0",
        assertThrows(IllegalArgumentException.class, () -> BULK.withThreshold(0)).getMessage());
    assertEquals("size not in 0..2147483647: 2147483648", assertThrows(
        IllegalArgumentException.class, () -> SharedBuffer.allocate(1L << 31)).getMessage());
    try (SharedBuffer shared = SharedBuffer.allocate(64)) {
      assertEquals("shape needs more than the 64 bytes of this buffer", assertThrows(
          IllegalArgumentException.class,
          () -> shared.ndarray(NdArray.DType.FLOAT64, 3, 3)).getMessage());
    }
    assertEquals("shape [65536, 65536, 65536, 65536] holds more than 2^63 bytes", assertThrows(
        IllegalArgumentException.class, () -> NdArray.wrap(NdArray.DType.INT8,
            new int[] {65536, 65536, 65536, 65536}, ByteBuffer.allocate(0))).getMessage());
    assertEquals("shape [65536, 65536, 65536, 65536] holds more than 2^63 bytes", assertThrows(
        IllegalArgumentException.class, () -> NdArray.wrap(NdArray.DType.INT8,
            new int[] {65536, 65536, 65536, 65536}, new byte[0])).getMessage());
    assertEquals("shape [3] of FLOAT64 needs 24 bytes, not 16", assertThrows(
        IllegalArgumentException.class,
        () -> NdArray.wrap(NdArray.DType.FLOAT64, new int[] {3}, ByteBuffer.allocate(16)))
        .getMessage());
    try (dev.ferry.Listener listener = dev.ferry.Listener.bind(
            new dev.ferry.Address.Tcp("127.0.0.1", 0));
        dev.ferry.Connection tcp = dev.ferry.Client.connect(listener.address());
        dev.ferry.Connection accepted = listener.accept()) {
      String message = assertThrows(IllegalArgumentException.class,
          () -> BULK.send(tcp, "x")).getMessage();
      assertTrue(message.startsWith("bulk messages need a unix socket connection: "), message);
    }
  }

  @Test
  void arraysOverBuffersReadLikeArraysOverJavaArrays() {
    ByteBuffer bytes = ByteBuffer.allocate(24).order(ByteOrder.BIG_ENDIAN);
    bytes.putDouble(1.5).putDouble(-2).putDouble(3).flip();
    NdArray over = NdArray.wrap(NdArray.DType.FLOAT64, new int[] {3}, bytes);
    NdArray copied = NdArray.of(NdArray.DType.FLOAT64, new int[] {3}, new double[] {1.5, -2, 3});
    assertTrue(over.inBuffer());
    assertFalse(copied.inBuffer());
    assertEquals(copied, over);
    assertEquals(24, over.byteSize());
    bytes.putDouble(0, 7); // a view: it sees later writes
    assertEquals(7.0, ((double[]) over.data())[0]);
    assertEquals(ByteOrder.LITTLE_ENDIAN, copied.buffer().order());
    assertEquals(-2.0, copied.buffer().getDouble(8));
  }

  @Test
  void smallBuffersStayInBandAndTheMessageIsAPlainPickle() throws Exception {
    try (Pipe.Duplex pipe = Pipe.duplex()) {
      BULK.withThreshold(1 << 20).send(pipe.first(), filled(1000, (byte) 1));
      byte[] plain = pipe.second().receiveBytes();
      assertEquals(List.of(0x80, 5), List.of(plain[0] & 0xff, (int) plain[1]));
      assertArrayEquals(filled(1000, (byte) 1), (byte[]) PickleCodec.standard().loads(plain));
      BULK.withThreshold(100).send(pipe.first(), filled(1000, (byte) 1));
      assertEquals(ByteBuffer.wrap(filled(1000, (byte) 1)), BULK.receive(pipe.second()));
    }
  }

  /** Payloads with descriptors that lie, each with the descriptors that go with it. */
  private static List<Object[]> lies(FileDescriptor shm, FileDescriptor disk) throws IOException {
    byte[] pickle = PickleCodec.standard().dumps("x");
    byte[] twoBuffers = BulkFrame.encode(new long[] {0, 0}, new long[] {16, 16}, pickle);
    byte[] tooMany = BulkFrame.encode(new long[0], new long[0], pickle);
    ByteBuffer.wrap(tooMany).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 61);
    byte[] huge = BulkFrame.encode(new long[] {0}, new long[] {-1}, pickle);
    byte[] outside = BulkFrame.encode(new long[] {0}, new long[] {8192}, pickle);
    byte[] flags = BulkFrame.encode(new long[] {0}, new long[] {16}, pickle);
    ByteBuffer.wrap(flags).order(ByteOrder.LITTLE_ENDIAN).putInt(12, 1);
    // NEXT_BUFFER twice, with one buffer sent
    byte[] greedy = BulkFrame.encode(new long[] {0}, new long[] {16},
        new byte[] {(byte) 0x80, 5, (byte) 0x97, (byte) 0x97, (byte) 0x86, '.'});
    byte[] fine = BulkFrame.encode(new long[] {0}, new long[] {16}, pickle);
    FileDescriptor[] one = {shm};
    return List.of(
        new Object[] {twoBuffers, one},
        new Object[] {tooMany, one},
        new Object[] {huge, one},
        new Object[] {outside, one},
        new Object[] {pickle, one},
        new Object[] {flags, one},
        new Object[] {greedy, one},
        new Object[] {fine, new FileDescriptor[] {disk}});
  }

  // ---------------------------------------------------------------------------------------------

  private ChildProcess start(String version, String... args) throws IOException {
    return ChildProcess.startPython(CPython.interpreter(version), dir.resolve("bulk_child.py"),
        List.of(args));
  }

  private static byte[] filled(int size, byte value) {
    byte[] bytes = new byte[size];
    Arrays.fill(bytes, value);
    return bytes;
  }

  private static void copy(String resource, Path to) throws IOException {
    try (InputStream in = Objects.requireNonNull(BulkTest.class.getResourceAsStream(resource))) {
      Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Descriptors open, and mappings of shared memory, in this process. */
  private static long[] javaCounts() throws IOException {
    long fds;
    try (var list = Files.list(Path.of("/proc/self/fd"))) {
      fds = list.count();
    }
    long maps;
    try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
      maps = lines.filter(l -> l.contains("memfd:") || l.contains("/dev/shm/")).count();
    }
    return new long[] {fds, maps};
  }

  /** Mappings go when the collector frees their buffers: collect until they have, 10 s at most. */
  private static void assertCountsBackTo(long[] before) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    long[] now = javaCounts();
    while ((now[0] > before[0] || now[1] > before[1]) && System.nanoTime() < deadline) {
      System.gc();
      Thread.sleep(50);
      now = javaCounts();
    }
    assertFalse(now[0] > before[0], "descriptors: " + before[0] + " before, " + now[0] + " after");
    assertFalse(now[1] > before[1], "mappings: " + before[1] + " before, " + now[1] + " after");
  }
}
