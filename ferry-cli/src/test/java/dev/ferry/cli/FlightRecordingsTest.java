package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import jdk.jfr.Recording;
import jdk.jfr.RecordingState;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlightRecordingsTest {
  @TempDir Path dir;

  /** What SIGTERM's halt would otherwise lose: `ferry echo` run with -XX:StartFlightRecording. */
  @Test
  void writesARunningRecordingToItsFileBeforeTheHalt() throws Exception {
    Path file = dir.resolve("F.jfr");
    try (Recording recording = new Recording()) {
      recording.enable("dev.ferry.ConnectionOpened");
      recording.setDestination(file);
      recording.start();
      Pipe.duplex().close();
      FlightRecordings.writeBeforeHalt();
      assertTrue(recording.getState() != RecordingState.RUNNING);
    }
    assertTrue(Files.size(file) > 0);
    assertEquals(2, RecordingFile.readAllEvents(file).stream()
        .filter(e -> e.getEventType().getName().equals("dev.ferry.ConnectionOpened")).count());
  }
}
