package dev.ferry;

import dev.ferry.internal.connection.FramedConnection;
import dev.ferry.internal.thread.Threads;
import dev.ferry.internal.transport.Deadlines;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.SelectorProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A set of objects to wait on that stays registered between calls: connections and pipe ends of
 * every transport, listeners, and processes ({@link Process} or {@link ProcessHandle}). Where
 * {@link Wait#ready} registers every object on each call, a wait set registers each once, so a
 * call costs about the same with one object ready among 10,000 as among 10 (on TCP; see below).
 *
 * <pre>{@code
 * try (WaitSet<Connection> workers = WaitSet.open()) {
 *   for (Connection c : connections) workers.add(c);
 *   while (true) {
 *     for (Connection ready : workers.ready(Duration.ofSeconds(1))) {
 *       try {
 *         handle(ready.receiveBytes());
 *       } catch (EOFException e) {
 *         workers.remove(ready);
 *         ready.close();
 *       }
 *     }
 *   }
 * }
 * }</pre>
 *
 * <p>A member is ready when a receive would not block: a message or part of one has arrived (on
 * the socket or already read ahead into the connection's buffer by an earlier receive or poll),
 * the peer closed, the socket failed, or the connection was closed or made write-only on this side
 * (its receive then throws at once); when a listener has a client or a failure waiting, or was
 * closed; when a process has exited. A member stays ready, call after call, until whatever made it
 * ready has been consumed: remove members that ended.
 *
 * <p><b>Cost.</b> TCP sockets wait on the JDK's epoll selector: a call costs what the ready members
 * cost, however many are idle. Unix sockets and pipes wait on junixsocket's selector, which calls
 * poll(2) over every registered socket each time it selects. A set whose calls would pay that
 * (from its second call, with 64 or more of them registered, or at once when the set also holds
 * TCP sockets and must block on both) hands their selector to a thread of its own, named
 * {@code ferry-wait-N}, which lives as long as the set: it polls in the background, switches off
 * each socket it reports and passes it on; a call then looks only at the sockets passed on (and
 * at members that have input buffered), each with one non-blocking read into the connection's
 * read-ahead buffer, and hands back those that turn out empty to be watched again. The poll over
 * every socket then runs once per batch of arrivals, on that thread, not once per call. What such
 * a read takes waits in the buffer for the next receive; a socket error it meets shows there as
 * the end of the stream. A set used for one call ({@link Wait#ready}) starts no thread unless it
 * must block on both kinds.
 *
 * <p><b>Threads.</b> {@link #add}, {@link #remove} and {@link #close} may be called from any
 * thread, also while another thread waits in {@code ready}: a member added then is watched from
 * then on (the waiting call wakes if it is ready), and one removed may still be in the result of a
 * call already under way. One thread at a time may wait in {@code ready}. Members may be received
 * from by any thread; a receive that leaves whole or partial messages in a connection's buffer
 * wakes a waiting call.
 *
 * <p>Closing the set does not close its members. Python has no equivalent; it is what
 * {@code selectors.DefaultSelector} is to {@code multiprocessing.connection.wait}.
 *
 * @param <T> what the set holds, for example {@link Connection} or {@link Object} for a mix
 */
public final class WaitSet<T> implements AutoCloseable {
  private static final AtomicInteger THREADS = new AtomicInteger();
  private static final SelectorProvider JDK_SELECTORS = SelectorProvider.provider();

  /**
   * A poll-based selector with this many members or more is polled in the background from the
   * set's second call on. Below it, polling in the call costs a few microseconds, and a blocking
   * call's wake-up is faster without a second thread in between (see docs/ASYNC.md).
   */
  static final int BACKGROUND_MEMBERS = 64;

  // Guarded by stateLock, which is never held while blocking.
  private final ReentrantLock stateLock = new ReentrantLock();
  private final Map<Object, Member> members = new IdentityHashMap<>();
  private final Map<SelectorProvider, Group> groups = new LinkedHashMap<>();
  private long nextOrder;

  /** Held by the one thread in {@link #ready}; close takes it to wait for that thread to leave. */
  private final ReentrantLock waitLock = new ReentrantLock();

  /** Members that may be ready without their socket saying so; see {@link #isReadyNow}. */
  private final Queue<Member> suspects = new ConcurrentLinkedQueue<>();

  /** Connections added and not yet registered: the waiting thread registers them. */
  private final Queue<Member> unregistered = new ConcurrentLinkedQueue<>();

  /** The thread waiting in ready and the selector it blocks on, while it may block; else null. */
  private volatile Thread waiter;

  private volatile Selector blockingSelector;
  private volatile boolean closed;

  /** Waiting thread only: numbers the calls, so that a member goes into a result once. */
  private long calls;

  /** When a poll-based group moves to a background poller: from this call, with this many members. */
  private final long backgroundCalls;

  private final int backgroundMembers;

  private WaitSet(long backgroundCalls, int backgroundMembers) {
    this.backgroundCalls = backgroundCalls;
    this.backgroundMembers = backgroundMembers;
  }

  /** An empty, open set. */
  public static <T> WaitSet<T> open() {
    return new WaitSet<>(2, BACKGROUND_MEMBERS);
  }

  /**
   * For tests and measurements: a set whose poll-based groups move to a background poller from
   * call {@code calls} on (1: the first), once they hold {@code members} or more.
   */
  static <T> WaitSet<T> openPollingInBackground(long calls, int members) {
    return new WaitSet<>(calls, members);
  }

  /** One object in the set. */
  private final class Member {
    final Object object;
    final FramedConnection endpoint; // exactly one of these three is set
    final Listener listener;
    final ProcessHandle process;
    final long order;
    final AtomicBoolean suspected = new AtomicBoolean();
    volatile boolean removed;
    /** A Unix socket whose peer hung up: junixsocket drops its key and never reports it again. */
    volatile boolean hungUp;
    volatile SelectionKey key;
    volatile Runnable unwatch;
    /** Whether this member holds its connection non-blocking (from registering to cancelling). */
    final AtomicBoolean pinned = new AtomicBoolean();
    /**
     * Whether a background poller reported the socket and switched its key off (interest 0): the
     * member is then among the suspects until the waiting thread hands it back to be watched.
     */
    volatile boolean off;
    /** The connection's {@link FramedConnection#readCount} when its key was last switched on. */
    volatile long readsWhenWatched;
    Group group; // set under stateLock before the member is published, then fixed
    long reportedInCall; // waiting thread only

    /** Cancels the key, if any, and lets the connection's receives block in the kernel again. */
    void cancel() {
      SelectionKey k = key;
      if (k != null) k.cancel();
      if (pinned.compareAndSet(true, false)) endpoint.releaseSelectableChannel();
    }

    Member(Object object, long order) {
      this.object = object;
      this.order = order;
      this.endpoint = object instanceof FramedConnection e ? e : null;
      this.listener = object instanceof Listener l ? l : null;
      this.process = object instanceof Process p ? p.toHandle()
          : object instanceof ProcessHandle h ? h : null;
    }
  }

  /**
   * Adds {@code object}, to be watched from now on. Does not block.
   *
   * @throws IllegalArgumentException for an object of another type, or one in the set already
   * @throws ConnectionClosedException if the connection or listener is closed
   * @throws IllegalStateException if the connection is write-only or receives asynchronously
   *     ({@link dev.ferry.async.AsyncConnection}), or the set is closed
   */
  public void add(T object) throws IOException {
    if (!tryAdd(object)) throw new IllegalArgumentException("already in the set: " + object);
  }

  /** As {@link #add}, but returns false for an object in the set already. */
  boolean tryAdd(T object) throws IOException {
    Objects.requireNonNull(object, "object");
    checkWaitable(object);
    Member member;
    stateLock.lock();
    try {
      checkOpen();
      if (members.containsKey(object)) return false;
      member = new Member(object, nextOrder++);
      if (member.endpoint != null) {
        SelectorProvider provider = member.endpoint.selectorProvider();
        Group group = groups.get(provider);
        if (group == null) {
          group = new Group(provider.openSelector());
          // The JDK's group first: the waiting thread blocks on the first group, epoll scales.
          if (provider == JDK_SELECTORS && !groups.isEmpty()) {
            Map<SelectorProvider, Group> rest = new LinkedHashMap<>(groups);
            groups.clear();
            groups.put(provider, group);
            groups.putAll(rest);
          } else {
            groups.put(provider, group);
          }
        }
        group.count++;
        member.group = group;
        unregistered.add(member);
      }
      members.put(object, member);
    } finally {
      stateLock.unlock();
    }
    member.unwatch = watch(member);
    if (member.removed) member.unwatch.run(); // removed meanwhile: remove saw no unwatch yet
    suspect(member); // it may be ready already, and a waiting call must register it
    return true;
  }

  private static void checkWaitable(Object object) throws ConnectionClosedException {
    if (object instanceof FramedConnection endpoint) {
      if (endpoint.isClosed()) throw new ConnectionClosedException("connection is closed");
      if (!endpoint.isReadable()) throw new IllegalStateException("connection is write-only");
      if (endpoint.receivesAsynchronously()) {
        throw new IllegalStateException("connection receives asynchronously");
      }
    } else if (object instanceof Listener listener) {
      if (listener.isClosed()) throw new ConnectionClosedException("listener is closed");
    } else if (!(object instanceof Process || object instanceof ProcessHandle)) {
      throw new IllegalArgumentException("cannot wait on " + object.getClass().getName()
          + ": expected a Receiver, Listener, Process or ProcessHandle");
    }
  }

  /** Arranges for {@code member} to be suspected when it may have become ready; returns the undo. */
  private Runnable watch(Member member) {
    Runnable hook = () -> suspect(member);
    if (member.endpoint != null) {
      member.endpoint.addWaitWatcher(hook);
      return () -> member.endpoint.removeWaitWatcher(hook);
    }
    if (member.listener != null) {
      member.listener.watchers().add(hook);
      return () -> member.listener.watchers().remove(hook);
    }
    CompletableFuture<Void> exit = member.process.onExit().thenRun(hook);
    return () -> exit.cancel(false);
  }

  /**
   * Removes {@code object} from the set; false if it was not in it. Does not close it and does
   * not block.
   */
  public boolean remove(Object object) {
    Member member;
    stateLock.lock();
    try {
      member = members.remove(object);
      if (member == null) return false;
      member.removed = true;
      if (member.group != null) member.group.count--;
    } finally {
      stateLock.unlock();
    }
    if (member.endpoint != null) member.cancel();
    Runnable unwatch = member.unwatch;
    if (unwatch != null) unwatch.run();
    return true;
  }

  /** How many objects the set holds. */
  public int size() {
    stateLock.lock();
    try {
      return members.size();
    } finally {
      stateLock.unlock();
    }
  }

  public boolean isClosed() {
    return closed;
  }

  /** Waits with no time limit until at least one member is ready; see {@link #ready(Duration)}. */
  public List<T> ready() throws IOException {
    return ready(Deadlines.NONE);
  }

  /**
   * Returns the members that are ready, in the order they were added, waiting up to
   * {@code timeout} for the first; an empty list when the time runs out, or when the set was
   * closed meanwhile. {@link Duration#ZERO} (or negative) checks once without blocking. An empty
   * set waits for a member to be added and become ready.
   *
   * @throws IllegalStateException if the set is closed, or another thread is waiting in it
   * @throws java.io.InterruptedIOException if the thread is interrupted while waiting (its
   *     interrupt flag stays set)
   */
  public List<T> ready(Duration timeout) throws IOException {
    Objects.requireNonNull(timeout, "timeout");
    return ready(Deadlines.after(timeout));
  }

  List<T> ready(long deadline) throws IOException {
    if (!waitLock.tryLock()) throw new IllegalStateException("another thread is waiting on this set");
    try {
      checkOpen();
      long call = ++calls;
      if (call >= backgroundCalls) pollLargeGroupsInBackground();
      List<Member> found = new ArrayList<>();
      while (true) {
        registerAdded(call, found);
        collectNow(call, found);
        if (!found.isEmpty() || closed || Deadlines.remaining(deadline) <= 0) break;
        // Then round again: what woke it, and everything else ready by then, is reported below.
        block(deadline, call, found);
        if (Thread.interrupted()) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while waiting");
        }
      }
      return results(found);
    } finally {
      waitLock.unlock();
    }
  }

  @SuppressWarnings("unchecked")
  private List<T> results(List<Member> found) {
    found.sort(Comparator.comparingLong(m -> m.order));
    List<T> result = new ArrayList<>(found.size());
    for (Member m : found) if (!m.removed) result.add((T) m.object);
    return result;
  }

  // ---------------------------------------------------------------------------------------------
  // The waiting thread's side

  /** Moves poll-based groups large enough to a background poller, for the set's life. */
  private void pollLargeGroupsInBackground() throws IOException {
    List<Group> candidates = null;
    stateLock.lock();
    try {
      for (Group g : groups.values()) {
        if (g.poller == null && !g.epoll() && g.count >= backgroundMembers) {
          if (candidates == null) candidates = new ArrayList<>();
          candidates.add(g);
        }
      }
    } finally {
      stateLock.unlock();
    }
    if (candidates != null) for (Group g : candidates) startPoller(g);
  }

  /**
   * Hands {@code group} to a background poller. One last select here first: a member reported
   * ready by an earlier call must stay ready in this one, not wait for the poller's first poll.
   */
  private void startPoller(Group group) throws IOException {
    group.selector.selectNow();
    switchOffSelected(group);
    group.poller = new Poller(group);
  }

  /**
   * For each key the last select of {@code group} reported: switches it off (interest 0) and
   * queues its member, which the waiting thread then looks at alone; see {@link Poller}.
   */
  private void switchOffSelected(Group group) {
    for (SelectionKey key : group.selector.selectedKeys()) {
      Member member = memberOf(key);
      if (member.removed) continue;
      if (key.isValid()) {
        try {
          key.interestOps(0);
        } catch (CancelledKeyException e) {
          continue; // removed meanwhile
        }
      } else {
        noteHangUp(key, member);
      }
      member.off = true;
      suspect(member);
    }
    group.selector.selectedKeys().clear();
  }

  /** Registers the connections added since the last call, or hands them to their poller. */
  private void registerAdded(long call, List<Member> found) throws IOException {
    Member member;
    List<Poller> handedTo = null;
    while ((member = unregistered.poll()) != null) {
      if (member.removed) continue;
      Group group = member.group;
      if (group.poller != null) {
        group.poller.toRegister.add(member);
        if (handedTo == null) handedTo = new ArrayList<>(1);
        if (!handedTo.contains(group.poller)) handedTo.add(group.poller);
      } else {
        register(member, () -> selectInto(group, -1, call, found));
      }
    }
    if (handedTo != null) for (Poller p : handedTo) p.group.selector.wakeup();
  }

  private interface Flush {
    void run() throws IOException;
  }

  /**
   * Registers {@code member}'s socket with its group's selector, from the thread that selects
   * it; {@code flush} selects it once without blocking and handles what it reports.
   */
  private void register(Member member, Flush flush) throws IOException {
    SelectableChannel channel;
    try {
      channel = member.endpoint.selectableChannel();
    } catch (ConnectionClosedException e) {
      suspect(member); // closed since it was added: ready, its receive throws
      return;
    }
    member.pinned.set(true);
    Selector selector = member.group.selector;
    member.readsWhenWatched = member.endpoint.readCount();
    SelectionKey key;
    try {
      try {
        key = channel.register(selector, SelectionKey.OP_READ, member);
      } catch (CancelledKeyException e) {
        // Removed and added again: its old key waits for a select to flush it out.
        flush.run();
        key = channel.register(selector, SelectionKey.OP_READ, member);
      }
    } catch (ClosedChannelException e) {
      member.cancel();
      suspect(member); // closed since it was added: ready, its receive throws
      return;
    }
    member.key = key;
    if (member.removed) member.cancel(); // remove() ran meanwhile and saw no key
  }

  /** Adds what is ready now, without blocking. */
  private void collectNow(long call, List<Member> found) throws IOException {
    collectSuspects(call, found);
    for (Group group : activeGroups()) {
      Poller poller = group.poller;
      if (poller == null) selectInto(group, -1, call, found); else poller.rethrow();
    }
  }

  private void collectSuspects(long call, List<Member> found) {
    List<Member> again = null;
    List<Poller> toWake = null;
    Member member;
    while ((member = suspects.poll()) != null) {
      // Cleared before looking, so that a watcher that fires from now on queues it again.
      member.suspected.set(false);
      if (member.removed) continue;
      if (isReadyNow(member)) {
        report(member, call, found);
        if (again == null) again = new ArrayList<>();
        again.add(member);
      } else if (member.off) {
        // Reported, yet nothing there (a receive took it): its poller watches it again.
        member.off = false;
        Poller poller = member.group.poller;
        poller.toWatch.add(member);
        if (toWake == null) toWake = new ArrayList<>(1);
        if (!toWake.contains(poller)) toWake.add(poller);
      }
    }
    // What is ready stays suspect until consumed: a buffered message does not show on the socket,
    // nor does a socket whose key is switched off.
    if (again != null) for (Member m : again) if (m.suspected.compareAndSet(false, true)) suspects.add(m);
    if (toWake != null) for (Poller p : toWake) p.group.selector.wakeup();
  }

  private boolean isReadyNow(Member member) {
    if (member.endpoint != null) {
      FramedConnection e = member.endpoint;
      if (!e.isReadable() || member.hungUp) return true;
      // A member its poller reported: look at the socket itself, which nothing else watches now.
      return member.off ? e.readAhead(member.readsWhenWatched) : e.hasBufferedInput();
    }
    if (member.listener != null) return member.listener.isClosed() || member.listener.hasResult();
    return !member.process.isAlive();
  }

  private void report(Member member, long call, List<Member> found) {
    if (member.reportedInCall == call) return;
    member.reportedInCall = call;
    found.add(member);
  }

  /**
   * Selects on {@code group} ({@code millis < 0}: without blocking; 0: in bounded slices, see
   * {@link Deadlines#select}) and reports what it selected. Every select of a group the waiting
   * thread selects goes through here: junixsocket drops a hung-up socket's key in the select that
   * reports it, so a report thrown away is lost for good.
   */
  private void selectInto(Group group, long millis, long call, List<Member> found)
      throws IOException {
    if (millis < 0) group.selector.selectNow(); else Deadlines.select(group.selector, millis);
    for (SelectionKey key : group.selector.selectedKeys()) {
      Member member = memberOf(key);
      if (member.removed) continue;
      noteHangUp(key, member);
      report(member, call, found);
    }
    group.selector.selectedKeys().clear();
  }

  /** The member a key was registered for: this set's keys carry nothing else. */
  @SuppressWarnings("unchecked")
  private Member memberOf(SelectionKey key) {
    return (Member) key.attachment();
  }

  private void noteHangUp(SelectionKey key, Member member) {
    if (!key.isValid() && key.channel().isOpen()) {
      member.hungUp = true;
      suspect(member);
    }
  }

  private List<Group> activeGroups() {
    stateLock.lock();
    try {
      List<Group> active = new ArrayList<>(groups.size());
      for (Group g : groups.values()) if (g.count > 0) active.add(g);
      return active;
    } finally {
      stateLock.unlock();
    }
  }

  /**
   * Blocks until a member may be ready, a member was added, the set was closed, the deadline
   * passed or the thread was interrupted. The first group that no poller serves is selected here;
   * any other one moves to a background poller first, which wakes this thread through
   * {@link #suspect}.
   */
  private void block(long deadline, long call, List<Member> found) throws IOException {
    Group direct = null;
    for (Group g : activeGroups()) {
      if (g.poller != null) continue;
      if (direct == null) direct = g; else startPoller(g);
    }
    blockingSelector = direct == null ? null : direct.selector;
    waiter = Thread.currentThread();
    try {
      // Whatever a watcher queued before it could see this thread waiting: don't sleep on it.
      if (!suspects.isEmpty() || !unregistered.isEmpty() || closed) return;
      long millis = Deadlines.selectMillis(deadline);
      if (millis < 0) return;
      if (direct != null) {
        selectInto(direct, millis, call, found);
      } else {
        long nanos = Deadlines.remaining(deadline);
        // Only watchers, pollers and close wake this thread; the slice guards against a lost one.
        LockSupport.parkNanos(this, Math.min(nanos, 1_000_000_000L));
      }
    } finally {
      waiter = null;
      blockingSelector = null;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Any thread

  /** Queues {@code member} to be looked at by the waiting thread, and wakes it. */
  private void suspect(Member member) {
    if (member.suspected.get() || !member.suspected.compareAndSet(false, true)) return;
    suspects.add(member);
    wakeWaiter();
  }

  private void wakeWaiter() {
    Thread w = waiter;
    if (w == null) return; // it looks at the queues before it blocks
    Selector s = blockingSelector;
    if (s != null) s.wakeup();
    LockSupport.unpark(w);
  }

  private void checkOpen() {
    if (closed) throw new IllegalStateException("wait set is closed");
  }

  /**
   * Closes the set: a thread waiting in {@link #ready} returns what is ready (likely nothing), its
   * poller threads end, and its selectors close. The members stay open. Idempotent.
   */
  @Override
  public void close() throws IOException {
    stateLock.lock();
    try {
      if (closed) return;
      closed = true;
    } finally {
      stateLock.unlock();
    }
    wakeWaiter();
    waitLock.lock(); // the waiting thread leaves promptly: it was woken and sees closed
    List<Member> all;
    List<Group> groupsLeft;
    try {
      stateLock.lock();
      try {
        all = new ArrayList<>(members.values());
        groupsLeft = new ArrayList<>(groups.values());
        members.clear();
      } finally {
        stateLock.unlock();
      }
    } finally {
      waitLock.unlock();
    }
    for (Member m : all) {
      m.removed = true;
      if (m.endpoint != null) m.cancel();
      Runnable unwatch = m.unwatch;
      if (unwatch != null) unwatch.run();
    }
    IOException failure = null;
    for (Group g : groupsLeft) {
      try {
        g.close();
      } catch (IOException e) {
        if (failure == null) failure = e; else failure.addSuppressed(e);
      }
    }
    if (failure != null) throw failure;
  }

  @Override
  public String toString() {
    return "WaitSet[" + size() + " members" + (closed ? ", closed" : "") + "]";
  }

  // ---------------------------------------------------------------------------------------------
  // Selectors

  /** The connections of one selector provider, registered with one selector. */
  private final class Group {
    final Selector selector;
    int count; // members, guarded by stateLock
    /** Set by the waiting thread, once; then only the poller selects, registers and sets interest. */
    Poller poller;

    Group(Selector selector) {
      this.selector = selector;
    }

    /** The JDK's selector: epoll on Linux, whose select costs what is ready. */
    boolean epoll() {
      return selector.provider() == JDK_SELECTORS;
    }

    /**
     * Stops the poller, cancels every key, then closes the selector. junixsocket's selector close
     * does not take its keys off the channels: without the cancel, every set left a dead key on
     * each of its channels, a leak that also made registering slower every time.
     */
    void close() throws IOException {
      if (poller != null) poller.quit();
      for (SelectionKey key : selector.keys()) key.cancel();
      selector.close();
    }
  }

  /**
   * Selects one poll-based group for the rest of the set's life. Each socket it reports gets its
   * key switched off (interest 0) and its member queued as a suspect for the waiting thread, which
   * looks at that socket alone and hands it back through {@link #toWatch} if it has nothing. So
   * the poll over every socket runs here once per batch of arrivals, and a call costs what the
   * reported sockets cost. This thread alone selects the group, registers with it and changes
   * interest, so that junixsocket's selector never sees two threads at once.
   */
  private final class Poller implements Runnable {
    final Group group;
    final Queue<Member> toRegister = new ConcurrentLinkedQueue<>();
    final Queue<Member> toWatch = new ConcurrentLinkedQueue<>();
    /**
     * The longest poll. Never unbounded (see {@link Deadlines#select}), but longer than its
     * slices: an idle poll over 10,000 sockets costs milliseconds, and every change this thread
     * must see (a registration, a key to switch on, close) wakes it anyway.
     */
    private static final long IDLE_SLICE_MILLIS = 1_000;

    private final Thread thread;
    private volatile boolean quit;
    private volatile IOException failure;

    Poller(Group group) {
      this.group = group;
      this.thread = new Thread(this, "ferry-wait-" + THREADS.incrementAndGet());
      thread.setDaemon(true);
      thread.start();
    }

    void rethrow() throws IOException {
      IOException e = failure;
      if (e != null) throw new IOException("wait set poller failed: " + e.getMessage(), e);
    }

    void quit() {
      quit = true;
      group.selector.wakeup();
      Threads.joinUninterruptibly(thread);
    }

    @Override
    public void run() {
      try {
        while (!quit) {
          registerQueued();
          watchQueued();
          group.selector.select(IDLE_SLICE_MILLIS);
          if (quit) return;
          switchOffSelected(group);
        }
      } catch (IOException | ClosedSelectorException e) {
        if (quit) return;
        failure = e instanceof IOException io ? io : new IOException(e);
        wakeWaiter();
      }
    }

    private void registerQueued() throws IOException {
      Member member;
      while ((member = toRegister.poll()) != null) {
        if (member.removed) continue;
        register(member, () -> {
          group.selector.selectNow();
          switchOffSelected(group);
        });
      }
    }

    private void watchQueued() {
      Member member;
      while ((member = toWatch.poll()) != null) {
        SelectionKey key = member.key;
        // Reported again since it was handed back (a hang-up): the waiting thread has it now.
        if (member.removed || member.off || key == null || !key.isValid()) continue;
        // Before the interest goes on: a read between the two makes the count look touched,
        // which only costs a look more, never a false end of stream.
        member.readsWhenWatched = member.endpoint.readCount();
        try {
          key.interestOps(SelectionKey.OP_READ);
        } catch (CancelledKeyException e) {
          // Removed meanwhile.
        }
      }
    }
  }
}
