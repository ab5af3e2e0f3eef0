package dev.ferry.cli;

import jdk.jfr.FlightRecorder;
import jdk.jfr.Recording;
import jdk.jfr.RecordingState;

/**
 * Writes the JVM's flight recordings that have a file to go to, for a shutdown that ends with
 * {@code Runtime.halt}: halting skips JFR's own shutdown hook, so a server started with
 * {@code -XX:StartFlightRecording=filename=F.jfr} and stopped with SIGTERM would leave F.jfr empty.
 */
final class FlightRecordings {
  private FlightRecordings() {}

  /** Stops and writes every running recording with a destination; nothing if JFR never started. */
  static void writeBeforeHalt() {
    if (!FlightRecorder.isInitialized()) return;
    for (Recording r : FlightRecorder.getFlightRecorder().getRecordings()) {
      if (r.getDestination() == null || r.getState() != RecordingState.RUNNING) continue;
      try {
        r.stop(); // writes to its destination
      } catch (RuntimeException e) {
        // Another hook stopped it first, or the disk refused: the exit goes on either way.
      }
    }
  }
}
