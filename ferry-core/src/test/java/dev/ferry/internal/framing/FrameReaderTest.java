package dev.ferry.internal.framing;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.FramingException;
import dev.ferry.MessageTooLargeException;
import dev.ferry.internal.transport.Deadlines;
import dev.ferry.internal.transport.SocketPairs;
import dev.ferry.internal.transport.SocketTransport;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * The one frame decoder on its own, over a socket pair whose other end the test writes byte by
 * byte: where a header is consumed, when a read is inside a frame, what a cut frame and a refused
 * header leave behind, and the event loop's assembly across partial reads.
 */
class FrameReaderTest {
  private static final long UNLIMITED = Long.MAX_VALUE;

  private AFUNIXSocketChannel raw;
  private SocketTransport transport;
  private int refusals;
  private FrameReader reader;

  @BeforeEach
  void open() throws IOException {
    AFUNIXSocketChannel[] pair = SocketPairs.open();
    raw = pair[1];
    transport = new SocketTransport(pair[0]);
    reader = new FrameReader(transport, 0, () -> refusals++);
    reader.ensureBuffer();
  }

  @AfterEach
  void close() throws IOException {
    try {
      transport.close();
    } finally {
      raw.close();
    }
  }

  private void write(String hex) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(HexFormat.of().parseHex(hex.replace(" ", "")));
    while (b.hasRemaining()) raw.write(b);
  }

  private static long soon() {
    return Deadlines.after(Duration.ofMillis(50));
  }

  @Test
  void consumesNoHeaderByteWhileTheRestOfTheHeaderIsAwaited() throws Exception {
    write("ffffffff 00000000");
    assertThrows(SocketTimeoutException.class, () -> reader.readHeader(UNLIMITED, soon()));
    assertFalse(reader.midFrame());
    write("00000003 78797a");
    assertEquals(3, reader.readHeader(UNLIMITED, Deadlines.NONE));
    assertArrayEquals("xyz".getBytes(UTF_8), reader.readArray(3, Deadlines.NONE));
  }

  @Test
  void isInsideAFrameFromItsHeaderToTheEndOfItsPayload() throws Exception {
    write("00000005 6869");
    assertEquals(5, reader.readHeader(UNLIMITED, Deadlines.NONE));
    assertTrue(reader.midFrame());
    assertThrows(SocketTimeoutException.class, () -> reader.readArray(5, soon()));
    assertTrue(reader.midFrame(), "the owner must close: the stream is out of step");
  }

  @Test
  void endsTheStreamAfterACutFrame() throws Exception {
    write("00000005 6869");
    raw.close();
    assertEquals(5, reader.readHeader(UNLIMITED, Deadlines.NONE));
    FramingException e = assertThrows(FramingException.class, () -> reader.readArray(5, Deadlines.NONE));
    assertEquals("got end of file during message", e.getMessage());
    assertFalse(reader.midFrame());
    assertTrue(reader.hasBuffered(), "the end of the stream is buffered");
    assertThrows(EOFException.class, () -> reader.readHeader(UNLIMITED, Deadlines.NONE));
  }

  @Test
  void tellsTheOwnerOfEveryRefusedHeader() throws Exception {
    write("80000000");
    assertThrows(FramingException.class, () -> reader.readHeader(UNLIMITED, Deadlines.NONE));
    assertEquals(1, refusals);
    assertFalse(reader.midFrame());
  }

  @Test
  void refusesALengthOverTheLimitBeforeReadingThePayload() throws Exception {
    write("0000000b");
    MessageTooLargeException e =
        assertThrows(MessageTooLargeException.class, () -> reader.readHeader(10, Deadlines.NONE));
    assertEquals(11, e.length());
    assertEquals(1, refusals);
  }

  @Test
  void assemblesAMessageDeliveredOneByteAtATime() throws Exception {
    ByteBuffer scratch = ByteBuffer.allocateDirect(FrameReader.BUFFER_SIZE);
    String frame = "ffffffff 0000000000000002 6869";
    String hex = frame.replace(" ", "");
    byte[] message = null;
    for (int i = 0; i < hex.length(); i += 2) {
      assertNull(message, "whole before its last byte");
      write(hex.substring(i, i + 2));
      reader.borrowScratch(scratch);
      try {
        message = reader.assemble(UNLIMITED, false, false);
      } finally {
        reader.returnScratch();
      }
    }
    assertArrayEquals("hi".getBytes(UTF_8), message);
  }
}
