package dev.ferry.internal.lane;

import java.io.InterruptedIOException;
import java.util.concurrent.locks.LockSupport;

/**
 * The rhythm of a lane end's busy wait (a receive on an empty ring, a send on a full one): when it
 * gives its core away and when it looks at the socket. Not thread-safe: one per waiting side,
 * under that side's lock.
 */
public final class SpinPacer {
  /**
   * A spin yields the core once this long, as ferry_shm does: when both ends share a core (2-core
   * machines), a spin that never yields makes its peer wait out a scheduler slice, ~1 ms a trip.
   */
  static final long SLICE_NANOS = 5_000;
  /** A killed peer sets no flag in the ring: its socket tells, looked at this often. */
  static final long PROBE_NANOS = 1_000_000;

  /** A wait past its budgets sleeps a quarter of the time waited so far, from, to. */
  private static final long MIN_BACKOFF_NANOS = 10_000;
  private static final long MAX_BACKOFF_NANOS = 1_000_000;

  private long yieldAt;
  private long probeAt;

  /** Starts a wait: the times below count from it. */
  public void start() {
    yieldAt = SLICE_NANOS;
    probeAt = PROBE_NANOS;
  }

  /** Whether the socket is due a look, {@code spent} ns into the wait; once a millisecond. */
  public boolean probeDue(long spent) {
    if (spent < probeAt) return false;
    probeAt = spent + PROBE_NANOS;
    return true;
  }

  /** Spins a moment while {@code spinning}, yielding once a slice; yields when not spinning. */
  public void pause(long spent, boolean spinning) {
    if (spinning && spent < yieldAt) {
      Thread.onSpinWait();
      return;
    }
    Thread.yield();
    yieldAt = spent + SLICE_NANOS;
  }

  /** Sleeps a quarter of the {@code spent} ns, within the backoff's bounds. */
  public void sleep(long spent) throws InterruptedIOException {
    LockSupport.parkNanos(Math.min(Math.max(spent / 4, MIN_BACKOFF_NANOS), MAX_BACKOFF_NANOS));
    if (Thread.currentThread().isInterrupted()) {
      throw new InterruptedIOException("interrupted while the ring was full");
    }
  }
}
