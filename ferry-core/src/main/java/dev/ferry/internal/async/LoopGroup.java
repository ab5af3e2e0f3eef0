package dev.ferry.internal.async;

import dev.ferry.async.EventLoops;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The implementation of {@link EventLoops}: up to {@code threads} loops per selector provider,
 * started on first use, and handed out round robin.
 */
public final class LoopGroup implements EventLoops {
  private final int threads;
  private final long sendQueueBytes;

  // Guarded by this.
  private final Map<SelectorProvider, List<EventLoop>> loops = new HashMap<>();
  private final Map<SelectorProvider, Integer> next = new HashMap<>();
  private boolean closed;

  public LoopGroup(int threads, long sendQueueBytes) {
    if (threads < 1) throw new IllegalArgumentException("threads < 1: " + threads);
    if (sendQueueBytes < 1) throw new IllegalArgumentException("sendQueueBytes < 1: " + sendQueueBytes);
    this.threads = threads;
    this.sendQueueBytes = sendQueueBytes;
  }

  /** The group behind {@code loops}: {@link EventLoops} is sealed, and this is its one kind. */
  public static LoopGroup of(EventLoops loops) {
    return (LoopGroup) Objects.requireNonNull(loops, "loops");
  }

  @Override
  public int threadsPerKind() {
    return threads;
  }

  @Override
  public long sendQueueBytes() {
    return sendQueueBytes;
  }

  /** The next loop for channels of {@code provider}, starting it if there are fewer than allowed. */
  synchronized EventLoop next(SelectorProvider provider) {
    if (closed) throw new IllegalStateException("event loops are closed");
    List<EventLoop> list = loops.computeIfAbsent(provider, p -> new ArrayList<>());
    int i = next.merge(provider, 1, Integer::sum) - 1;
    if (list.size() < threads) {
      try {
        list.add(new EventLoop(provider));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot open a selector: " + e.getMessage(), e);
      }
      return list.get(list.size() - 1);
    }
    return list.get(i % list.size());
  }

  @Override
  public void close() {
    List<EventLoop> all = new ArrayList<>();
    synchronized (this) {
      if (closed) return;
      closed = true;
      for (List<EventLoop> list : loops.values()) all.addAll(list);
    }
    for (EventLoop l : all) l.close();
  }

  @Override
  public synchronized boolean isClosed() {
    return closed;
  }

  @Override
  public String toString() {
    return "EventLoops[" + threads + " per kind" + (isClosed() ? ", closed" : "") + "]";
  }
}
