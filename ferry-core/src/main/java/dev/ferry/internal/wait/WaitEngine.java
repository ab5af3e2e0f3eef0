package dev.ferry.internal.wait;

import dev.ferry.ConnectionClosedException;
import dev.ferry.internal.accept.SocketListener;
import dev.ferry.internal.connection.FramedConnection;
import dev.ferry.internal.transport.Deadlines;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.SelectorProvider;
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
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The engine under {@code WaitSet} and {@code Wait}: members, their selector groups and the
 * background pollers.
 *
 * <p>Connections are registered with one selector per selector provider ({@link Group}): the
 * JDK's (epoll, TCP) and junixsocket's (poll(2), Unix sockets and pipes). The one thread in
 * {@link #ready} blocks on the first group; a poll-based group large enough, or any group beside
 * the first when the call must block, moves to a {@link Poller} thread for the rest of the set's
 * life. Listeners and processes, and connections with input already buffered, cannot show on a
 * selector: hooks on them queue the member as a <em>suspect</em> and wake the waiting thread,
 * which looks at each suspect alone ({@link #isReadyNow}). What is ready stays a suspect until it
 * is consumed.
 *
 * <p>Locks: {@code stateLock} guards the member map and the group counts, is never held while
 * blocking and is taken after {@code waitLock}; {@code waitLock} is held by the waiting thread
 * for the whole call. Neither is held while a connection's read lock is taken: a look at a
 * suspect only tries that lock ({@link FramedConnection#readAhead}), and the connection calls
 * the hooks after releasing it.
 *
 * @param <T> what the set holds
 */
public final class WaitEngine<T> implements AutoCloseable {
  /**
   * A poll-based selector with this many members or more is polled in the background from the
   * set's second call on. Below it, polling in the call costs a few microseconds, and a blocking
   * call's wake-up is faster without a second thread in between (see docs/ASYNC.md).
   */
  public static final int BACKGROUND_MEMBERS = 64;

  /** The longest park without a selector: only hooks, pollers and close wake it. */
  private static final long PARK_SLICE_NANOS = 1_000_000_000L;

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

  private WaitEngine(long backgroundCalls, int backgroundMembers) {
    this.backgroundCalls = backgroundCalls;
    this.backgroundMembers = backgroundMembers;
  }

  /** An empty set that polls large Unix groups in the background from its second call on. */
  public static <T> WaitEngine<T> open() {
    return new WaitEngine<>(2, BACKGROUND_MEMBERS);
  }

  /**
   * For tests and measurements: a set whose poll-based groups move to a background poller from
   * call {@code calls} on (1: the first), once they hold {@code members} or more.
   */
  public static <T> WaitEngine<T> openPollingInBackground(long calls, int members) {
    return new WaitEngine<>(calls, members);
  }

  /** Adds {@code object}, watched from now on; false if it is in the set already. */
  public boolean tryAdd(T object) throws IOException {
    Objects.requireNonNull(object, "object");
    checkWaitable(object);
    Member member;
    stateLock.lock();
    try {
      checkOpen();
      if (members.containsKey(object)) return false;
      member = new Member(object, nextOrder++);
      if (member.connection != null) {
        Group group = group(member.connection.selectorProvider());
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

  /** The group of {@code provider}, made on first use. Under stateLock. */
  private Group group(SelectorProvider provider) throws IOException {
    Group group = groups.get(provider);
    if (group != null) return group;
    group = new Group(provider.openSelector());
    // The JDK's group first: the waiting thread blocks on the first group, epoll scales.
    if (provider == Group.JDK_SELECTORS && !groups.isEmpty()) {
      Map<SelectorProvider, Group> rest = new LinkedHashMap<>(groups);
      groups.clear();
      groups.put(provider, group);
      groups.putAll(rest);
    } else {
      groups.put(provider, group);
    }
    return group;
  }

  private static void checkWaitable(Object object) throws ConnectionClosedException {
    if (object instanceof FramedConnection connection) {
      if (connection.isClosed()) throw new ConnectionClosedException("connection is closed");
      if (!connection.isReadable()) throw new IllegalStateException("connection is write-only");
      if (connection.receivesAsynchronously()) {
        throw new IllegalStateException("connection receives asynchronously");
      }
    } else if (object instanceof SocketListener listener) {
      if (listener.isClosed()) throw new ConnectionClosedException("listener is closed");
    } else if (!(object instanceof Process || object instanceof ProcessHandle)) {
      throw new IllegalArgumentException("cannot wait on " + object.getClass().getName()
          + ": expected a Receiver, Listener, Process or ProcessHandle");
    }
  }

  /** Arranges for {@code member} to be suspected when it may have become ready; returns the undo. */
  private Runnable watch(Member member) {
    Runnable hook = () -> suspect(member);
    if (member.connection != null) {
      member.connection.addWaitWatcher(hook);
      return () -> member.connection.removeWaitWatcher(hook);
    }
    if (member.listener != null) {
      member.listener.addWaitWatcher(hook);
      return () -> member.listener.removeWaitWatcher(hook);
    }
    CompletableFuture<Void> exit = member.process.onExit().thenRun(hook);
    return () -> exit.cancel(false);
  }

  /** Removes {@code object}; false if it was not in the set. Does not close it, does not block. */
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
    forget(member);
    return true;
  }

  private static void forget(Member member) {
    if (member.connection != null) member.cancel();
    Runnable unwatch = member.unwatch;
    if (unwatch != null) unwatch.run();
  }

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

  /**
   * The members ready before {@code deadline} (a {@link Deadlines} value), in the order they were
   * added; empty when it passed or the set was closed meanwhile. An empty set sleeps until the
   * deadline, or until a member is added and becomes ready.
   *
   * @throws IllegalStateException if the set is closed, or another thread is waiting in it
   * @throws InterruptedIOException if the thread is interrupted on entry or while waiting (its
   *     interrupt flag stays set); the members stay open, with their input
   */
  public List<T> ready(long deadline) throws IOException {
    if (!waitLock.tryLock()) throw new IllegalStateException("another thread is waiting on this set");
    try {
      checkOpen();
      checkInterrupt();
      long call = ++calls;
      if (call >= backgroundCalls) pollLargeGroupsInBackground();
      List<Member> found = new ArrayList<>();
      while (true) {
        registerAdded(call, found);
        collectNow(call, found);
        if (!found.isEmpty() || closed || Deadlines.remaining(deadline) <= 0) break;
        // Then round again: what woke it, and everything else ready by then, is reported below.
        block(deadline, call, found);
        checkInterrupt();
      }
      return results(found);
    } finally {
      waitLock.unlock();
    }
  }

  /** Throws if the thread is interrupted, leaving its flag set. */
  private static void checkInterrupt() throws InterruptedIOException {
    if (Thread.currentThread().isInterrupted()) {
      throw new InterruptedIOException("interrupted while waiting");
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
    group.select(-1);
    switchOffSelected(group);
    group.poller = new Poller(this, group);
  }

  /**
   * For each key the last select of {@code group} reported: switches it off (interest 0) and
   * queues its member, which the waiting thread then looks at alone; see {@link Poller}.
   */
  void switchOffSelected(Group group) {
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

  /** Selects a group once without blocking and handles what it reports. */
  interface Flush {
    void run() throws IOException;
  }

  /**
   * Registers {@code member}'s socket with its group's selector, from the thread that selects
   * it; {@code flush} selects it once without blocking and handles what it reports.
   */
  void register(Member member, Flush flush) throws IOException {
    SelectableChannel channel;
    try {
      channel = member.connection.selectableChannel();
    } catch (ConnectionClosedException e) {
      suspect(member); // closed since it was added: ready, its receive throws
      return;
    }
    member.pinned.set(true);
    Selector selector = member.group.selector;
    member.readsWhenWatched = member.connection.readCount();
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

  private void collectSuspects(long call, List<Member> found) throws IOException {
    List<Member> again = null;
    List<Poller> toWake = null;
    Member member;
    try {
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
    } finally {
      // What is ready stays suspect until consumed: a buffered message does not show on the
      // socket, nor does a socket whose key is switched off.
      if (again != null) for (Member m : again) requeue(m);
      if (toWake != null) for (Poller p : toWake) p.group.selector.wakeup();
    }
  }

  private void requeue(Member member) {
    if (member.suspected.compareAndSet(false, true)) suspects.add(member);
  }

  /**
   * Whether a receive from {@code member} would not block now. A member its poller reported gets
   * one non-blocking read of its socket, which nothing else watches now; never on an interrupted
   * thread, where junixsocket's read would close the socket and lose what it holds.
   *
   * @throws InterruptedIOException if the thread is interrupted; the member stays a suspect
   */
  private boolean isReadyNow(Member member) throws IOException {
    if (member.connection != null) {
      FramedConnection c = member.connection;
      if (!c.isReadable() || member.hungUp) return true;
      if (!member.off) return c.hasBufferedInput();
      try {
        checkInterrupt();
        return c.readAhead(member.readsWhenWatched);
      } catch (IOException e) {
        requeue(member); // still to look at, by the next call
        throw e;
      }
    }
    if (member.listener != null) return member.listener.isClosed() || member.listener.hasResult();
    return !member.process.isAlive();
  }

  private static void report(Member member, long call, List<Member> found) {
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
    group.select(millis);
    for (SelectionKey key : group.selector.selectedKeys()) {
      Member member = memberOf(key);
      if (member.removed) continue;
      noteHangUp(key, member);
      report(member, call, found);
    }
    group.selector.selectedKeys().clear();
  }

  /** The member a key was registered for: this set's keys carry nothing else. */
  private static Member memberOf(SelectionKey key) {
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
   * {@link #suspect}. With no group to select (an empty set, or one of listeners and processes),
   * the thread parks.
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
        // The slice guards against a lost wake-up.
        LockSupport.parkNanos(this, Math.min(Deadlines.remaining(deadline), PARK_SLICE_NANOS));
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

  void wakeWaiter() {
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
    List<Member> all;
    List<Group> groupsLeft;
    waitLock.lock(); // the waiting thread leaves promptly: it was woken and sees closed
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
      forget(m);
    }
    closeGroups(groupsLeft);
  }

  private static void closeGroups(List<Group> groups) throws IOException {
    IOException failure = null;
    for (Group g : groups) {
      try {
        g.close();
      } catch (IOException e) {
        if (failure == null) failure = e; else failure.addSuppressed(e);
      }
    }
    if (failure != null) throw failure;
  }
}
