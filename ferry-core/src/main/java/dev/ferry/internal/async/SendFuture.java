package dev.ferry.internal.async;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * A send's future. Cancelling it, or completing it from outside ({@code orTimeout},
 * {@code complete}), withdraws the send while the loop has not started it; once started the
 * message goes out whole, read from the caller's buffer, so those calls return false and the
 * future completes only when the message was handed over: until then the buffer is in use.
 */
final class SendFuture extends CompletableFuture<Void> {
  private static final int WAITING = 0;
  private static final int STARTED = 1;
  private static final int WITHDRAWN = 2;

  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(SendFuture.class, "state", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** WAITING, STARTED or WITHDRAWN; changed through STATE (no AtomicInteger per send). */
  private volatile int state;

  /** Loop thread: commits to writing the send; false if the caller withdrew it first. */
  boolean start() {
    return STATE.compareAndSet(this, WAITING, STARTED) || state == STARTED;
  }

  private boolean withdraw() {
    return STATE.compareAndSet(this, WAITING, WITHDRAWN) || state == WITHDRAWN;
  }

  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    return withdraw() && super.cancel(mayInterruptIfRunning);
  }

  @Override
  public boolean complete(Void value) {
    return withdraw() && super.complete(value);
  }

  @Override
  public boolean completeExceptionally(Throwable e) {
    return withdraw() && super.completeExceptionally(e);
  }

  @Override
  public CompletableFuture<Void> completeAsync(Supplier<? extends Void> supplier,
      Executor executor) {
    // The JDK's version completes through internals that bypass the two methods above.
    Objects.requireNonNull(supplier, "supplier");
    executor.execute(() -> {
      try {
        complete(supplier.get());
      } catch (RuntimeException | Error e) {
        completeExceptionally(e);
      }
    });
    return this;
  }

  /** Refused: it would end a send the loop may still be reading from the caller's buffer. */
  @Override
  public void obtrudeValue(Void value) {
    throw new UnsupportedOperationException("a send's future cannot be obtruded");
  }

  /** Refused, as {@link #obtrudeValue}. */
  @Override
  public void obtrudeException(Throwable e) {
    throw new UnsupportedOperationException("a send's future cannot be obtruded");
  }

  /** The loop's own completion: written. */
  void succeed() {
    super.complete(null);
  }

  /** The loop's own completion: failed, started or not. */
  void fail(Throwable e) {
    super.completeExceptionally(e);
  }
}
