package dev.ferry;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.handle.Handles;
import dev.ferry.handle.Ownership;
import dev.ferry.internal.raw.RawEnd;
import dev.ferry.internal.transport.InheritedDescriptors;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Raw pipes with blocking calls: bytes, not messages. */
@ExtendWith(LeakCheck.class)
class RawPipeTest {
  @Test
  void carriesBytesWithoutFraming() throws IOException {
    try (RawPipe pipe = RawPipe.open()) {
      pipe.writer().write(ByteBuffer.wrap("hi from ".getBytes(US_ASCII)));
      pipe.writer().outputStream().write("child process\n".getBytes(US_ASCII));
      byte[] got = pipe.reader().inputStream().readNBytes(22);
      assertEquals("hi from child process\n", new String(got, US_ASCII));
    }
  }

  @Test
  void readerSeesEndOfStreamOnceTheWriterCloses() throws IOException {
    try (RawPipe pipe = RawPipe.open()) {
      pipe.writer().write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
      pipe.writer().close();
      InputStream in = pipe.reader().inputStream();
      assertArrayEquals(new byte[] {1, 2, 3}, in.readAllBytes());
      assertEquals(-1, pipe.reader().read(ByteBuffer.allocate(1)));
    }
  }

  @Test
  void writeFailsOnceTheReaderIsClosed() throws IOException {
    try (RawPipe pipe = RawPipe.open()) {
      pipe.reader().close();
      IOException e = assertThrows(IOException.class, () -> {
        for (int i = 0; i < 1000; i++) pipe.writer().write(ByteBuffer.allocate(4096));
      });
      assertEquals("broken pipe: the read end is closed", e.getMessage());
    }
  }

  @Test
  void readTimesOutAndStaysUsable() throws IOException {
    try (RawPipe pipe = RawPipe.open()) {
      SocketTimeoutException e = assertThrows(SocketTimeoutException.class,
          () -> pipe.reader().read(ByteBuffer.allocate(1), Duration.ofMillis(50)));
      assertEquals("read timed out after 50 ms", e.getMessage());
      pipe.writer().write(ByteBuffer.wrap(new byte[] {7}));
      ByteBuffer one = ByteBuffer.allocate(1);
      assertEquals(1, pipe.reader().read(one, Duration.ofSeconds(30)));
      assertEquals(7, one.get(0));
    }
  }

  @Test
  void zeroTimeoutReadSeesDataAndEndOfStreamWithoutWaiting() throws IOException {
    try (RawPipe pipe = RawPipe.open()) {
      ByteBuffer got = ByteBuffer.allocate(8);
      assertThrows(SocketTimeoutException.class, () -> pipe.reader().read(got, Duration.ZERO));
      pipe.writer().write(ByteBuffer.wrap(new byte[] {1, 2}));
      pipe.writer().close();
      assertEquals(2, pipe.reader().read(got, Duration.ZERO));
      assertEquals(-1, pipe.reader().read(got, Duration.ZERO));
    }
  }

  @Test
  void rejectsNegativeTimeout() throws IOException {
    try (RawPipe pipe = RawPipe.open()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> pipe.reader().read(ByteBuffer.allocate(1), Duration.ofMillis(-1)));
      assertEquals("timeout < 0: PT-0.001S", e.getMessage());
    }
  }

  @Test
  void closeFromAnotherThreadWakesABlockedRead() throws Exception {
    try (RawPipe pipe = RawPipe.open()) {
      CompletableFuture<Integer> read = CompletableFuture.supplyAsync(() -> {
        try {
          return pipe.reader().read(ByteBuffer.allocate(1));
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      });
      // Wait until the read is blocked in its selector, then close underneath it.
      awaitBlocked(read);
      pipe.reader().close();
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> read.get(30, TimeUnit.SECONDS));
      assertInstanceOf(ConnectionClosedException.class, e.getCause().getCause());
      assertFalse(pipe.reader().isOpen());
    }
  }

  @Test
  void closeFromAnotherThreadWakesABlockedWrite() throws Exception {
    try (RawPipe pipe = RawPipe.open()) {
      CompletableFuture<Void> write = CompletableFuture.runAsync(() -> {
        try {
          pipe.writer().write(ByteBuffer.allocate(16 << 20)); // far more than the kernel buffers
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      });
      awaitBlocked(write);
      pipe.writer().close();
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> write.get(30, TimeUnit.SECONDS));
      assertInstanceOf(ConnectionClosedException.class, e.getCause().getCause());
    }
  }

  @Test
  void closedEndRefusesReadsWithAClearMessage() throws IOException {
    try (RawPipe pipe = RawPipe.open()) {
      pipe.reader().close();
      pipe.reader().close(); // idempotent
      ConnectionClosedException e = assertThrows(ConnectionClosedException.class,
          () -> pipe.reader().read(ByteBuffer.allocate(1)));
      assertEquals("raw pipe read end is closed", e.getMessage());
    }
  }

  @Test
  void passedReadEndWorksInTheReceiverAfterTheSenderClosedItsCopy() throws IOException {
    try (RawPipe pipe = RawPipe.open(); Pipe.Duplex link = Pipe.duplex()) {
      Handles.sendRawEnd(link.first(), pipe.reader(), Ownership.MOVE);
      assertFalse(pipe.reader().isOpen());
      try (RawReader received = Handles.receiveRawReader(link.second())) {
        pipe.writer().write(ByteBuffer.wrap("moved\n".getBytes(US_ASCII)));
        pipe.writer().close();
        assertEquals("moved\n", new String(received.inputStream().readAllBytes(), US_ASCII));
      }
    }
  }

  @Test
  void aPassedEndAndTheCopyLeftBehindStayInBlockingModeUnlessInUse() throws IOException {
    try (RawPipe pipe = RawPipe.open(); Pipe.Duplex link = Pipe.duplex()) {
      // A timed read waits in a selector: the end is non-blocking while this side uses it.
      assertThrows(SocketTimeoutException.class,
          () -> pipe.reader().read(ByteBuffer.allocate(1), Duration.ofMillis(1)));
      // O_NONBLOCK is shared by every copy, and CPython's sockets and Connection need it clear.
      Handles.sendRawEnd(link.first(), pipe.reader(), Ownership.DUPLICATE);
      assertFalse(nonBlocking(pipe.reader()));
      try (RawReader received = Handles.receiveRawReader(link.second())) {
        assertFalse(nonBlocking(received));
        pipe.writer().write(ByteBuffer.wrap(new byte[] {1}));
        assertEquals(1, received.read(ByteBuffer.allocate(1), Duration.ofSeconds(30)));
      }
      assertFalse(nonBlocking(pipe.reader()));
    }
  }

  /** Whether the open file description of {@code end} has O_NONBLOCK (octal 04000). */
  private static boolean nonBlocking(RawReader end) throws IOException {
    int fd = InheritedDescriptors.number(((RawEnd) end).channel().getFileDescriptor());
    for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd))) {
      if (line.startsWith("flags:")) {
        return (Integer.parseInt(line.substring(6).trim(), 8) & 04000) != 0;
      }
    }
    throw new IOException("no flags in /proc/self/fdinfo/" + fd);
  }

  @Test
  void duplicatedWriteEndKeepsTheStreamOpenUntilEveryCopyCloses() throws IOException {
    try (RawPipe pipe = RawPipe.open(); Pipe.Duplex link = Pipe.duplex()) {
      Handles.sendRawEnd(link.first(), pipe.writer(), Ownership.DUPLICATE);
      RawWriter copy = Handles.receiveRawWriter(link.second());
      pipe.writer().close(); // a plain close: the copy still writes
      copy.outputStream().write("still open\n".getBytes(US_ASCII));
      ByteBuffer got = ByteBuffer.allocate(64);
      while (got.position() < 11) pipe.reader().read(got, Duration.ofSeconds(30));
      assertThrows(SocketTimeoutException.class,
          () -> pipe.reader().read(got, Duration.ofMillis(20)), "no end of stream yet");
      copy.close();
      assertEquals(-1, pipe.reader().read(got, Duration.ofSeconds(30)));
      assertEquals("still open\n", new String(got.array(), 0, 11, US_ASCII));
    }
  }

  @Test
  void receivingADescriptorThatIsNotASocketFailsAndClosesIt() throws IOException {
    try (Pipe.Duplex link = Pipe.duplex();
        FileInputStream devNull = new FileInputStream("/dev/null")) {
      Handles.sendDescriptor(link.first(), devNull.getFD());
      IOException e = assertThrows(IOException.class,
          () -> Handles.receiveRawReader(link.second()));
      assertTrue(e.getMessage().startsWith("received descriptor is not a unix socket"),
          e.getMessage());
    }
  }

  private static void awaitBlocked(CompletableFuture<?> call) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!call.isDone() && !blockedInSelect()) {
      assertTrue(System.nanoTime() < deadline, "the call never blocked");
      Thread.sleep(1);
    }
  }

  /** Whether some thread of this process waits in a selector (the blocked read or write). */
  private static boolean blockedInSelect() {
    for (StackTraceElement[] stack : Thread.getAllStackTraces().values()) {
      for (StackTraceElement frame : stack) {
        if (frame.getMethodName().equals("select") || frame.getMethodName().equals("poll")) {
          for (StackTraceElement f : stack) if (f.getClassName().endsWith("RawEnd")) return true;
        }
      }
    }
    return false;
  }
}
