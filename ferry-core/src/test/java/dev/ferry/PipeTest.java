package dev.ferry;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LeakCheck.class)
class PipeTest {

  @Test
  void oneWayPipeCarriesMessagesFromWriterToReader() throws Exception {
    try (Pipe.OneWay pipe = Pipe.oneWay()) {
      pipe.writer().sendBytes("first".getBytes(UTF_8));
      pipe.writer().sendBytes("second".getBytes(UTF_8));
      assertEquals("first", new String(pipe.reader().receiveBytes(), UTF_8));
      assertEquals("second", new String(pipe.reader().receiveBytes(), UTF_8));
      assertTrue(pipe.reader().isReadable());
      assertTrue(pipe.writer().isWritable());
    }
  }

  @Test
  void oneWayEndsRefuseTheWrongDirection() throws Exception {
    try (Pipe.OneWay pipe = Pipe.oneWay()) {
      // The types already forbid it; a cast must not sneak around them.
      Connection reader = (Connection) pipe.reader();
      Connection writer = (Connection) pipe.writer();
      assertFalse(reader.isWritable());
      assertFalse(writer.isReadable());
      IllegalStateException ro =
          assertThrows(IllegalStateException.class, () -> reader.sendBytes(new byte[1]));
      assertEquals("connection is read-only", ro.getMessage());
      IllegalStateException wo = assertThrows(IllegalStateException.class, writer::receiveBytes);
      assertEquals("connection is write-only", wo.getMessage());
      assertThrows(IllegalStateException.class, writer::poll);
    }
  }

  @Test
  void readerSeesEofWhenWriterCloses() throws Exception {
    try (Pipe.OneWay pipe = Pipe.oneWay()) {
      pipe.writer().close();
      assertTrue(pipe.reader().poll(Duration.ofSeconds(5)));
      assertThrows(EOFException.class, pipe.reader()::receiveBytes);
    }
  }

  @Test
  void closingThePairClosesBothEnds() throws Exception {
    Pipe.Duplex pipe = Pipe.duplex();
    pipe.close();
    assertTrue(pipe.first().isClosed());
    assertTrue(pipe.second().isClosed());
    assertThrows(ConnectionClosedException.class, pipe.first()::receiveBytes);
  }
}
