package dev.ferry;

import dev.ferry.internal.lane.LaneRegion;
import java.time.Duration;
import java.util.Objects;

/**
 * Asks for a shared-memory lane on Unix socket connections: after the normal handshake, each
 * direction's bytes travel through a ring in memory shared by the two processes instead of through
 * the socket, which stays as the doorbell, for passing descriptors and to learn of the peer's end
 * (docs/LANE.md). Both ends must opt in; a peer that did not (a stock CPython
 * {@code multiprocessing.connection}, a Ferry end without this option) never sees a lane message
 * and gets a plain socket connection.
 *
 * <pre>{@code
 * ConnectionOptions options = ConnectionOptions.builder().authKey(key)
 *     .sharedMemoryLane(SharedMemoryLane.builder().spin(Duration.ofMillis(1)).build())
 *     .build();
 * }</pre>
 *
 * <p>A receive that finds its ring empty spins for {@link #spin()}, then yields its thread for
 * {@link #yieldTime()}, then sleeps on the socket until the peer rings; the default (no spin, no
 * yield) costs nothing idle but pays a wake-up per message, like a socket. Spinning makes round
 * trips fast at the price of a busy core while waiting.
 *
 * <p>With an authkey, the lane is agreed inside the HMAC handshake and is safe against any peer.
 * Without one, the client sends its offer blindly as its first message: point a keyless lane
 * client only at a lane listener. Lanes need x86-64 Linux; elsewhere the option is ignored by
 * {@code Client} and {@code Listener}, and {@code Pipe} refuses it. A lane connection cannot be
 * passed to another process.
 *
 * <p>Python: {@code ferry_shm.Client}/{@code ferry_shm.Listener} (from {@code ferry python-helpers}).
 */
public final class SharedMemoryLane {
  /** The default ring size, per direction: 1 MiB. */
  public static final int DEFAULT_RING_SIZE = 1 << 20;

  private static final SharedMemoryLane DEFAULTS = builder().build();

  private final int ringSize;
  private final Duration spin;
  private final Duration yieldTime;

  private SharedMemoryLane(Builder b) {
    this.ringSize = b.ringSize;
    this.spin = b.spin;
    this.yieldTime = b.yieldTime;
  }

  /** A 1 MiB ring each way, no spin, no yield. */
  public static SharedMemoryLane defaults() {
    return DEFAULTS;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Bytes per ring (each direction has one). */
  public int ringSize() {
    return ringSize;
  }

  /** How long a receive spins on an empty ring before it yields. */
  public Duration spin() {
    return spin;
  }

  /** How long a receive yields its thread after spinning, before it sleeps. */
  public Duration yieldTime() {
    return yieldTime;
  }

  /** Whether this platform can run a lane: x86-64 Linux (LANE.md section 9). */
  public static boolean supported() {
    String arch = System.getProperty("os.arch", "");
    return System.getProperty("os.name", "").equals("Linux")
        && (arch.equals("amd64") || arch.equals("x86_64"));
  }

  @Override
  public String toString() {
    return "SharedMemoryLane[ringSize=" + ringSize + ", spin=" + spin + ", yieldTime=" + yieldTime + "]";
  }

  /** Builds {@link SharedMemoryLane}. Every setter checks its argument at once. */
  public static final class Builder {
    private int ringSize = DEFAULT_RING_SIZE;
    private Duration spin = Duration.ZERO;
    private Duration yieldTime = Duration.ZERO;

    private Builder() {}

    /**
     * Bytes per ring: a power of two from 4 KiB to 256 MiB. Messages larger than the ring stream
     * through it.
     *
     * @throws IllegalArgumentException otherwise, naming the size
     */
    public Builder ringSize(int bytes) {
      this.ringSize = LaneRegion.checkCapacity(bytes, "ringSize");
      return this;
    }

    /**
     * How long a receive spins on an empty ring, at most 1 s (zero, the default, never spins).
     *
     * @throws IllegalArgumentException if negative or over 1 s
     */
    public Builder spin(Duration spin) {
      this.spin = budget(spin, "spin");
      return this;
    }

    /**
     * How long a receive yields its thread after spinning, at most 1 s (zero by default).
     *
     * @throws IllegalArgumentException if negative or over 1 s
     */
    public Builder yieldTime(Duration yieldTime) {
      this.yieldTime = budget(yieldTime, "yieldTime");
      return this;
    }

    /**
     * @throws IllegalArgumentException if spin and yield together exceed 1 s: a receive learns
     *     of a dead peer once they are spent, and that must stay under a second
     */
    public SharedMemoryLane build() {
      if (spin.plus(yieldTime).compareTo(Duration.ofSeconds(1)) > 0) {
        throw new IllegalArgumentException("spin + yieldTime over 1 s: " + spin + " + " + yieldTime);
      }
      return new SharedMemoryLane(this);
    }

    private static Duration budget(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative()) throw new IllegalArgumentException(name + " < 0: " + d);
      if (d.compareTo(Duration.ofSeconds(1)) > 0) {
        // A peer that died is noticed once the budget ends: keep that under a second.
        throw new IllegalArgumentException(name + " over 1 s: " + d);
      }
      return d;
    }
  }
}
