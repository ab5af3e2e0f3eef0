package dev.ferry.internal.accept;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.ConnectionOptions;
import dev.ferry.HandshakeFailure;
import dev.ferry.Listener;
import dev.ferry.ListenerMetrics;
import dev.ferry.PeerCredentials;
import dev.ferry.PeerPolicy;
import dev.ferry.PeerRefusedException;
import dev.ferry.internal.auth.Handshake;
import dev.ferry.internal.auth.ServerHandshake;
import dev.ferry.internal.connection.FramedConnection;
import dev.ferry.internal.framing.FrameReader;
import dev.ferry.internal.events.FerryEvents;
import dev.ferry.internal.thread.Threads;
import dev.ferry.internal.connection.LaneSetup;
import dev.ferry.internal.transport.Deadlines;
import dev.ferry.internal.transport.LaneTransport;
import dev.ferry.internal.transport.SocketTransport;
import dev.ferry.internal.transport.Sockets;
import dev.ferry.internal.transport.TlsTransport;
import dev.ferry.internal.transport.Transport;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * One thread per {@link Listener} that accepts connections and runs all their handshakes at once
 * on one selector, each as a {@link ServerHandshake} fed whole messages as they arrive, after a
 * TLS handshake advanced step by step without waiting when the listener has TLS. A silent
 * or slow client costs a descriptor and a few hundred bytes until its handshake timeout, never a
 * thread, so it cannot hold up anyone else. Results (an authenticated connection, or the exception
 * its handshake ended with) queue up for {@link Listener#accept()} in the order they finish.
 *
 * <p>What keeps it from being wedged by hostile clients (see {@code HostileClientsTest}): each
 * connection's failure, even a runtime exception from the handshake code, ends that connection
 * only; new clients are accepted only while there is room for their handshake, so a full house
 * waits in the kernel's listen queue instead of spinning the selector; failures are queued for
 * {@code accept()} up to a bound and beyond it only logged, so a flood of bad clients cannot
 * stop good ones from being accepted or grow the heap; and an accept that fails (out of
 * descriptors) pauses accepting briefly instead of spinning.
 */
final class AcceptLoop implements Runnable {
  private static final System.Logger LOG = System.getLogger(Listener.class.getName());
  private static final AtomicInteger THREADS = new AtomicInteger();

  /** Queued after the last result when the listener closes. */
  static final Object CLOSED = new Object();

  /** How long accepting pauses after accept itself failed (EMFILE, ENFILE, ENOBUFS). */
  private static final long ACCEPT_BACKOFF_NANOS = 100_000_000L;

  private final ServerSocketChannel server;
  private final Address address;
  private final ConnectionOptions options;
  private final byte[] key;
  private final Selector selector;

  /**
   * The handshakes' read buffer, lent to each connection for one read: a connection accepted
   * here starts with no direct buffer of its own (10,000 of them would otherwise leave 80 MB of
   * native memory to a garbage collection).
   */
  private final ByteBuffer scratch = ByteBuffer.allocateDirect(FrameReader.BUFFER_SIZE);
  private final SelectionKey acceptKey;
  private final Thread thread;

  private final ListenerCounters counters = new ListenerCounters();

  /** Connections and failures for accept(); CLOSED last. */
  private final BlockingQueue<Object> results = new LinkedBlockingQueue<>();

  /** Called whenever a result is queued, for Wait. */
  private final List<Runnable> watchers = new CopyOnWriteArrayList<>();

  // Only the loop thread touches these.
  private final Map<SelectionKey, Pending> pending = new HashMap<>();
  /** Keys cancelled this round: deregistered by one selectNow after the round, not during it. */
  private boolean cancelled;
  /** While accept keeps failing: the time before which the loop does not try again. */
  private long acceptPausedUntil = Deadlines.NONE;

  // Counts of what sits in results, so that failures and connections are bounded separately.
  private final AtomicInteger queuedConnections = new AtomicInteger();
  private final AtomicInteger queuedFailures = new AtomicInteger();
  private long droppedFailures;

  private volatile boolean closing;

  /**
   * One client in its handshakes: TLS first if {@code tls} is set, then HMAC if {@code handshake}
   * is, both before {@code deadline}.
   */
  private static final class Pending {
    final FramedConnection endpoint;
    final TlsTransport tls;
    final ServerHandshake handshake;
    /** The lane's setup step, for a listener that accepts lanes; null otherwise. */
    final LaneAccept lane;
    long deadline;
    final long startedNanos = System.nanoTime();

    Pending(FramedConnection endpoint, TlsTransport tls, ServerHandshake handshake, LaneAccept lane,
        long deadline) {
      this.endpoint = endpoint;
      this.tls = tls;
      this.handshake = handshake;
      this.lane = lane;
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
        // Keys that a deregistering selectNow found ready are already selected: don't block.
        if (selector.selectedKeys().isEmpty()) Deadlines.select(selector, nextTimeoutMillis());
        else selector.selectNow();
        for (Iterator<SelectionKey> i = selector.selectedKeys().iterator(); i.hasNext(); ) {
          SelectionKey k = i.next();
          i.remove();
          if (k == acceptKey) {
            if (k.isValid() && k.isAcceptable()) acceptAll();
          } else {
            // Even if invalid: junixsocket's selector invalidates the key of a Unix peer that
            // hung up, selecting it once. Reading is how the handshake learns of the end.
            advance(k);
          }
        }
        expire();
        flushCancelled();
        // Hold new clients in the kernel's backlog while there is no room for their handshake or
        // results wait for accept(); interest in accepts we could not take would spin the loop.
        boolean room = pending.size() < options.maxPendingHandshakes()
            && queuedConnections.get() + pending.size() < maxQueued()
            && acceptPausedUntil == Deadlines.NONE;
        int ops = room ? SelectionKey.OP_ACCEPT : 0;
        // Only on change: junixsocket's interestOps wakes its selector, so setting it every
        // round made the loop of an idle Unix listener spin (20% of a core).
        if (acceptKey.interestOps() != ops) acceptKey.interestOps(ops);
      }
    } catch (IOException | RuntimeException e) {
      if (!closing) {
        LOG.log(Level.WARNING, "accept loop on " + address + " failed", e);
        offer(e instanceof IOException io ? io : new IOException("accept loop failed: " + e, e));
      }
    } finally {
      for (Pending p : pending.values()) closeQuietly(p.endpoint);
      pending.clear();
      try {
        selector.close();
      } catch (IOException e) {
        LOG.log(Level.DEBUG, "closing selector", e);
      }
    }
  }

  private int maxQueued() {
    return options.backlog() + options.maxPendingHandshakes();
  }

  /** For {@link Deadlines#select}: until the next handshake deadline, 0 for none pending. */
  private long nextTimeoutMillis() {
    long next = acceptPausedUntil;
    for (Pending p : pending.values()) next = Math.min(next, p.deadline);
    long millis = Deadlines.selectMillis(next);
    return millis < 0 ? 1 : millis;
  }

  private void acceptAll() {
    while (pending.size() < options.maxPendingHandshakes()) {
      SocketChannel channel;
      try {
        channel = server.accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        // EMFILE and friends: report to accept(), pause a little, keep serving the rest.
        acceptPausedUntil = System.nanoTime() + ACCEPT_BACKOFF_NANOS;
        offer(new IOException("accept failed on " + address + ": " + e.getMessage(), e));
        return;
      }
      if (channel == null) return;
      FramedConnection endpoint;
      TlsTransport tls = null;
      Transport transport;
      try {
        Sockets.configureAccepted(channel);
        if (options.tls().isPresent()) {
          tls = TlsTransport.server(channel, options.tls().get(),
              options.clientCertificateRequired(), address.toString());
        }
        transport = tls != null ? tls
            : LaneSetup.wanted(options) && channel instanceof AFUNIXSocketChannel unix
                ? LaneSetup.transport(unix, options)
                : new SocketTransport(channel);
        endpoint = new FramedConnection(transport, "accepted on " + address, true, true, options);
      } catch (IOException | RuntimeException e) {
        closeQuietly(channel);
        continue;
      }
      if (!admitted(channel, endpoint)) continue;
      LaneAccept lane = tls == null && transport instanceof LaneTransport l
          ? new LaneAccept(l, key == null) : null;
      if (key == null && tls == null && lane == null) {
        accepted(endpoint, 0, "none");
        continue;
      }
      ServerHandshake handshake = key == null ? null : new ServerHandshake(key, options.unprefixedDigest());
      if (handshake != null && lane != null) handshake.offerLane();
      try {
        // Without TLS the server speaks first; with it, the client does (its hello).
        if (tls == null && handshake != null) endpoint.sendHandshakeMessage(handshake.start());
        SelectionKey k = channel.register(selector, SelectionKey.OP_READ);
        pending.put(k, new Pending(endpoint, tls, handshake, lane, Deadlines.after(
            handshake == null && tls == null ? LaneAccept.OFFER_WINDOW : options.handshakeTimeout())));
      } catch (IOException | RuntimeException e) {
        fail(null, endpoint, asIOException(e));
      }
    }
  }

  /**
   * Advances the TLS handshake of {@code p}; true once it is done and the HMAC one (if any) has
   * started, false while it waits for the socket.
   */
  private boolean advanceTls(SelectionKey k, Pending p) throws IOException {
    TlsTransport.Step step = p.tls.handshakeStep();
    if (step != TlsTransport.Step.DONE) {
      int ops = step == TlsTransport.Step.NEEDS_READ ? SelectionKey.OP_READ : SelectionKey.OP_WRITE;
      if (k.interestOps() != ops) k.interestOps(ops);
      return false;
    }
    if (k.interestOps() != SelectionKey.OP_READ) k.interestOps(SelectionKey.OP_READ);
    if (p.handshake != null) p.endpoint.sendHandshakeMessage(p.handshake.start());
    return true;
  }

  /** Applies the peer policy, if any; a refused peer is closed and reported. */
  private boolean admitted(SocketChannel channel, FramedConnection endpoint) {
    PeerPolicy policy = options.peerPolicy().orElse(null);
    if (policy == null) return true;
    PeerCredentials peer;
    try {
      peer = Sockets.peerCredentials(channel).orElse(null);
    } catch (IOException | RuntimeException e) {
      fail(null, endpoint, new PeerRefusedException("peer refused on " + address
          + ": cannot read its credentials: " + e.getMessage(), null));
      return false;
    }
    if (peer == null) {
      fail(null, endpoint, new PeerRefusedException("peer refused on " + address
          + ": no credentials for this kind of socket", null));
      return false;
    }
    if (policy.allows(peer)) return true;
    fail(null, endpoint, new PeerRefusedException("peer refused on " + address + ": uid "
        + peer.uid() + " (pid " + peer.pid() + ") is not in the allowed uids "
        + policy.allowedUids(), peer));
    return false;
  }

  private void advance(SelectionKey k) {
    Pending p = pending.get(k);
    if (p == null) return;
    try {
      if (p.tls != null && !p.tls.isHandshakeDone() && !advanceTls(k, p)) return;
      if (p.handshake == null && p.lane != null) { // keyless lane: the first bytes decide
        advanceLane(k, p, true);
        return;
      }
      if (p.handshake == null) { // TLS only
        forget(k);
        accepted(p.endpoint, System.nanoTime() - p.startedNanos, "none");
        return;
      }
      // Only the first read follows the selector's word that the socket is readable; a key that
      // junixsocket invalidated on hang-up is never selected again, so read that one to the end.
      boolean hungUp = !k.isValid();
      boolean readable = true;
      for (int reads = 0; !p.handshake.isDone(); reads++) {
        byte[] message = p.endpoint.receiveNow(Handshake.MAX_MESSAGE_LENGTH, readable, scratch);
        readable = hungUp;
        if (message == null) {
          if (!hungUp) break;
          if (reads > 1024) throw new IOException("peer hung up and its stream does not end");
          continue;
        }
        ServerHandshake.Step step = p.handshake.onMessage(message);
        try {
          for (byte[] reply : step.replies()) p.endpoint.sendHandshakeMessage(reply);
        } catch (IOException sendFailed) {
          if (step.failure() == null) throw sendFailed;
          step.failure().addSuppressed(sendFailed);
        }
        if (step.failure() != null) throw step.failure();
      }
      if (p.handshake.isDone()) {
        if (p.lane != null && p.handshake.laneAgreed()) {
          advanceLane(k, p, false);
          return;
        }
        forget(k);
        p.endpoint.trimBuffers(); // an idle accepted connection holds no native buffer
        accepted(p.endpoint, System.nanoTime() - p.startedNanos, p.handshake.digest());
      }
    } catch (IOException | RuntimeException e) {
      // A bug or a surprise in one handshake ends that connection, never the loop.
      if (e instanceof RuntimeException) {
        LOG.log(Level.WARNING, "handshake on " + address + " failed unexpectedly", e);
      }
      fail(k, p.endpoint, asIOException(e));
    }
  }

  /** Feeds the lane's setup step; accepts the connection, lane or plain, once it is over. */
  private void advanceLane(SelectionKey k, Pending p, boolean readable) throws IOException {
    boolean offerWasStarted = !p.lane.windowApplies();
    if (!p.lane.advance(p.endpoint, readable, scratch)) {
      // An offer began inside the window: give it the whole handshake time to arrive.
      if (!offerWasStarted && !p.lane.windowApplies()) {
        p.deadline = Deadlines.after(options.handshakeTimeout());
      }
      return;
    }
    forget(k);
    p.endpoint.trimBuffers();
    accepted(p.endpoint, System.nanoTime() - p.startedNanos,
        p.handshake == null ? "none" : p.handshake.digest());
  }

  private static IOException asIOException(Exception e) {
    return e instanceof IOException io ? io : new IOException("handshake failed: " + e, e);
  }

  private void expire() {
    if (acceptPausedUntil != Deadlines.NONE && Deadlines.remaining(acceptPausedUntil) <= 0) {
      acceptPausedUntil = Deadlines.NONE;
    }
    List<SelectionKey> late = new ArrayList<>();
    for (Map.Entry<SelectionKey, Pending> e : pending.entrySet()) {
      if (Deadlines.remaining(e.getValue().deadline) <= 0) late.add(e.getKey());
    }
    for (SelectionKey k : late) {
      Pending p = pending.get(k);
      if (p.lane != null && p.lane.windowApplies()) { // a keyless client that sent nothing yet: plain
        forget(k);
        accepted(p.endpoint, System.nanoTime() - p.startedNanos, "none");
        continue;
      }
      fail(k, p.endpoint, new SocketTimeoutException("handshake timed out after "
          + options.handshakeTimeout().toMillis() + " ms on " + address));
    }
  }

  /** Counts, records and queues a connection that passed its handshakes. */
  private void accepted(FramedConnection endpoint, long handshakeNanos, String digest) {
    counters.accepted(endpoint);
    endpoint.recordOpened("accepted", options.tls().isPresent() ? "tls"
        : address instanceof Address.Tcp ? "tcp" : "unix", handshakeNanos, digest);
    offer(endpoint);
  }

  /** This listener's counts; see {@link Listener#metrics()}. */
  ListenerMetrics metrics() {
    return counters.snapshot();
  }

  private void fail(SelectionKey k, FramedConnection endpoint, IOException e) {
    if (k != null) forget(k);
    HandshakeFailure reason = counters.failed(e);
    FerryEvents.handshakeFailed("accepted", address.toString(), endpoint.peerName(),
        reason.reason(), e.getMessage());
    closeQuietly(endpoint);
    LOG.log(Level.DEBUG, "handshake failed on {0}: {1}", address, e.toString());
    offer(e);
  }

  private void forget(SelectionKey k) {
    pending.remove(k);
    k.cancel();
    cancelled = true;
  }

  /**
   * Deregisters the keys cancelled this round, so that the closes of their channels are not
   * deferred until the next select. Never while iterating the selected keys: selectNow adds to
   * that set under the iterator.
   */
  private void flushCancelled() {
    if (!cancelled) return;
    cancelled = false;
    try {
      selector.selectNow();
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "flushing cancelled keys", e);
    }
  }

  private void offer(Object result) {
    if (result instanceof FramedConnection) {
      queuedConnections.incrementAndGet();
    } else if (result instanceof IOException e) {
      if (queuedFailures.get() >= maxQueued()) {
        // Nobody is taking them: keep the first ones, log the rest, never stop accepting.
        droppedFailures++;
        LOG.log(Level.DEBUG, "{0} failures dropped on {1}; last: {2}",
            droppedFailures, address, e.toString());
        return;
      }
      queuedFailures.incrementAndGet();
    }
    results.add(result);
    for (Runnable w : watchers) w.run();
  }

  /** Takes the next result, waiting until {@code deadline}; null if it passed. */
  Object take(long deadline) throws InterruptedException {
    Object result = deadline == Deadlines.NONE ? results.take()
        : results.poll(Math.max(0, Deadlines.remaining(deadline)), TimeUnit.NANOSECONDS);
    taken(result);
    return result;
  }

  /** Takes the next result if there is one, without waiting: for acceptAsync. */
  Object poll() {
    Object result = results.poll();
    taken(result);
    return result;
  }

  /** Queues again a result that was taken but not handed out (its future was cancelled). */
  void putBack(Object result) {
    if (result instanceof FramedConnection) queuedConnections.incrementAndGet();
    else if (result instanceof IOException) queuedFailures.incrementAndGet();
    results.add(result);
    // close() drains the queue once, after it set closing: a connection put back after that
    // drain would sit behind CLOSED with nobody to take or close it.
    if (closing && result instanceof FramedConnection connection && results.remove(result)) {
      closeQuietly(connection);
      return;
    }
    for (Runnable w : watchers) w.run();
  }

  private void taken(Object result) {
    if (result instanceof FramedConnection) {
      queuedConnections.decrementAndGet();
      // The loop may have stopped accepting for want of room: let it look again.
      if (acceptKey.isValid() && acceptKey.interestOps() == 0) selector.wakeup();
    } else if (result instanceof IOException) {
      queuedFailures.decrementAndGet();
    }
  }

  /** Queues {@link #CLOSED} again for the next taker, once one took it. */
  void keepClosed() {
    results.add(CLOSED);
  }

  /** Calls {@code watcher} whenever a result is queued. */
  void addWatcher(Runnable watcher) {
    watchers.add(watcher);
  }

  void removeWatcher(Runnable watcher) {
    watchers.remove(watcher);
  }

  boolean hasResult() {
    return !results.isEmpty();
  }

  /** Stops the loop, waits for it, and closes the connections nobody accepted. */
  void close() {
    closing = true;
    selector.wakeup();
    Threads.joinUninterruptibly(thread);
    List<Object> left = new ArrayList<>();
    results.drainTo(left);
    for (Object o : left) if (o instanceof FramedConnection e) closeQuietly(e);
    offer(CLOSED);
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      LOG.log(Level.DEBUG, "closing after a failed handshake", e);
    }
  }
}
