package dev.ferry.cli;

import dev.ferry.ConnectionOptions;
import dev.ferry.SharedMemoryLane;
import java.time.Duration;

/** {@code --shared-memory}: the lane a serving command accepts (docs/LANE.md). */
final class SharedMemoryOption {
  private SharedMemoryOption() {}

  /**
   * {@code options} accepting lanes; a lane receive spins {@code spinMicros} (null: not at all),
   * as a socket receive does with {@code --receive-spin-us}.
   */
  static ConnectionOptions apply(ConnectionOptions options, Integer spinMicros) {
    SharedMemoryLane.Builder lane = SharedMemoryLane.builder();
    if (spinMicros != null) lane.spin(Duration.ofNanos(spinMicros * 1_000L));
    return options.toBuilder().sharedMemoryLane(lane.build()).build();
  }
}
