package dev.ferry;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Runs blocking test tasks each on a thread of its own. The common pool will not do: on a
 * 2-core machine it may have a single thread (JDK 25), and one blocked task then starves the rest.
 */
final class TestThreads {
  private static final Executor EACH = task -> {
    Thread t = new Thread(task, "test-blocking");
    t.setDaemon(true);
    t.start();
  };

  private TestThreads() {}

  static <T> CompletableFuture<T> supply(Supplier<T> supplier) {
    return CompletableFuture.supplyAsync(supplier, EACH);
  }

  static CompletableFuture<Void> run(Runnable runnable) {
    return CompletableFuture.runAsync(runnable, EACH);
  }

  /** A task that may throw; what it throws is what the future's get reports as the cause. */
  interface Call<T> {
    T call() throws Exception;
  }

  static <T> CompletableFuture<T> call(Call<T> task) {
    return supply(() -> {
      try {
        return task.call();
      } catch (Exception e) {
        throw new CompletionException(e);
      }
    });
  }
}
