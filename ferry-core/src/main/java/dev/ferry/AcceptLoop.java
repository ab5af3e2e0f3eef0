package dev.ferry;

import dev.ferry.internal.auth.ServerHandshake;
import dev.ferry.internal.transport.Deadlines;
import dev.ferry.internal.transport.SocketTransport;
import dev.ferry.internal.transport.Sockets;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One thread per {@link Listener} that accepts connections and runs all their handshakes at once
 * on one selector, each as a {@link ServerHandshake} fed whole messages as they arrive. A silent
 * or slow client costs a descriptor and a few hundred bytes until its handshake timeout, never a
 * thread, so it cannot hold up anyone else. Results (an authenticated connection, or the exception
 * its handshake ended with) queue up for {@link Listener#accept()} in the order they finish.
 */
final class AcceptLoop implements Runnable {
  private static final System.Logger LOG = System.getLogger(Listener.class.getName());
  private static final AtomicInteger THREADS = new AtomicInteger();

  /** Queued after the last result when the listener closes. */
  static final Object CLOSED = new Object();

  private final ServerSocketChannel server;
  private final Address address;
  private final ConnectionOptions options;
  private final byte[] key;
  private final Selector selector;
  private final SelectionKey acceptKey;
  private final Thread thread;

  /** Connections and failures for accept(); CLOSED last. */
  final BlockingQueue<Object> results = new LinkedBlockingQueue<>();

  /** Called whenever a result is queued, for Wait. */
  final List<Runnable> watchers = new CopyOnWriteArrayList<>();

  // Only the loop thread touches these.
  private final Map<SelectionKey, Pending> pending = new HashMap<>();

  private volatile boolean closing;

  private static final class Pending {
    final Endpoint endpoint;
    final ServerHandshake handshake;
    final long deadline;

    Pending(Endpoint endpoint, ServerHandshake handshake, long deadline) {
      this.endpoint = endpoint;
      this.handshake = handshake;
      this.deadline = deadline;
    }
  }

  AcceptLoop(ServerSocketChannel server, Address address, ConnectionOptions options)
      throws IOException {
    this.server = server;
    this.address = address;
    this.options = options;
    this.key = options.authKey().map(AuthKey::bytes).orElse(null);
    this.selector = server.provider().openSelector();
    try {
      this.acceptKey = server.register(selector, SelectionKey.OP_ACCEPT);
    } catch (IOException | RuntimeException e) {
      selector.close();
      throw e;
    }
    this.thread = new Thread(this, "ferry-accept-" + THREADS.incrementAndGet());
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  @Override
  public void run() {
    try {
      while (!closing) {
        long timeout = nextTimeoutMillis();
        // select(0) does not wait on junixsocket's selector: ask for "forever" explicitly.
        if (timeout == 0) selector.select(); else selector.select(timeout);
        // A copy: forget() runs selectNow, which adds to the selected set while we walk it.
        List<SelectionKey> ready = new ArrayList<>(selector.selectedKeys());
        selector.selectedKeys().clear();
        for (SelectionKey k : ready) {
          if (k == acceptKey) {
            acceptAll();
          } else if (k.isValid()) {
            advance(k);
          }
        }
        expire();
        // Hold new clients in the kernel's backlog while results wait for accept().
        acceptKey.interestOps(results.size() + pending.size() < maxQueued() ? SelectionKey.OP_ACCEPT : 0);
      }
    } catch (IOException | RuntimeException e) {
      if (!closing) {
        LOG.log(System.Logger.Level.WARNING, "accept loop on " + address + " failed", e);
        offer(e instanceof IOException io ? io : new IOException("accept loop failed: " + e, e));
      }
    } finally {
      for (Pending p : pending.values()) closeQuietly(p.endpoint);
      pending.clear();
      try {
        selector.close();
      } catch (IOException e) {
        LOG.log(System.Logger.Level.DEBUG, "closing selector", e);
      }
    }
  }

  private int maxQueued() {
    return options.backlog() + options.maxPendingHandshakes();
  }

  private long nextTimeoutMillis() {
    long next = Deadlines.NONE;
    for (Pending p : pending.values()) next = Math.min(next, p.deadline);
    long millis = Deadlines.selectMillis(next);
    return millis < 0 ? 1 : millis;
  }

  private void acceptAll() throws IOException {
    while (pending.size() < options.maxPendingHandshakes()) {
      SocketChannel channel;
      try {
        channel = server.accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        // EMFILE and friends: report to accept() and keep serving the rest.
        offer(new IOException("accept failed on " + address + ": " + e.getMessage(), e));
        return;
      }
      if (channel == null) return;
      Endpoint endpoint;
      try {
        Sockets.configureAccepted(channel);
        endpoint = new Endpoint(new SocketTransport(channel), "accepted on " + address, true, true,
            options);
      } catch (IOException | RuntimeException e) {
        closeQuietly(channel);
        continue;
      }
      if (key == null) {
        offer(endpoint);
        continue;
      }
      ServerHandshake handshake = new ServerHandshake(key);
      try {
        endpoint.sendBytes(handshake.start());
        SelectionKey k = channel.register(selector, SelectionKey.OP_READ);
        pending.put(k, new Pending(endpoint, handshake, Deadlines.after(options.handshakeTimeout())));
      } catch (IOException e) {
        fail(null, endpoint, e);
      }
    }
  }

  private void advance(SelectionKey k) {
    Pending p = pending.get(k);
    if (p == null) return;
    try {
      byte[] message;
      while (!p.handshake.isDone() && (message = p.endpoint.receiveNow(256)) != null) {
        ServerHandshake.Step step = p.handshake.onMessage(message);
        try {
          for (byte[] reply : step.replies()) p.endpoint.sendBytes(reply);
        } catch (IOException sendFailed) {
          if (step.failure() == null) throw sendFailed;
          step.failure().addSuppressed(sendFailed);
        }
        if (step.failure() != null) throw step.failure();
      }
      if (p.handshake.isDone()) {
        forget(k);
        offer(p.endpoint);
      }
    } catch (IOException e) {
      fail(k, p.endpoint, e);
    }
  }

  private void expire() {
    List<SelectionKey> late = new ArrayList<>();
    for (Map.Entry<SelectionKey, Pending> e : pending.entrySet()) {
      if (Deadlines.remaining(e.getValue().deadline) <= 0) late.add(e.getKey());
    }
    for (SelectionKey k : late) {
      fail(k, pending.get(k).endpoint, new SocketTimeoutException("handshake timed out after "
          + options.handshakeTimeout().toMillis() + " ms on " + address));
    }
  }

  private void fail(SelectionKey k, Endpoint endpoint, IOException e) {
    if (k != null) forget(k);
    closeQuietly(endpoint);
    LOG.log(System.Logger.Level.DEBUG, "handshake failed on {0}: {1}", address, e.toString());
    offer(e);
  }

  private void forget(SelectionKey k) {
    pending.remove(k);
    k.cancel();
    try {
      selector.selectNow(); // deregisters now, so that a close is not deferred until next select
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "flushing cancelled key", e);
    }
  }

  private void offer(Object result) {
    results.add(result);
    for (Runnable w : watchers) w.run();
  }

  /** Takes the next result, waiting until {@code deadline}; null if it passed. */
  Object take(long deadline) throws InterruptedException {
    if (deadline == Deadlines.NONE) return results.take();
    return results.poll(Math.max(0, Deadlines.remaining(deadline)), TimeUnit.NANOSECONDS);
  }

  boolean hasResult() {
    return !results.isEmpty();
  }

  /** Stops the loop, waits for it, and closes the connections nobody accepted. */
  void close() {
    closing = true;
    selector.wakeup();
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) Thread.currentThread().interrupt();
    List<Object> left = new ArrayList<>();
    results.drainTo(left);
    for (Object o : left) if (o instanceof Endpoint e) closeQuietly(e);
    offer(CLOSED);
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      LOG.log(System.Logger.Level.DEBUG, "closing after a failed handshake", e);
    }
  }
}
