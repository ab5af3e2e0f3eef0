package dev.ferry.internal.events;

import dev.ferry.PeerCredentials;
import jdk.jfr.Event;
import jdk.jfr.EventType;
import jdk.jfr.FlightRecorder;

/**
 * Ferry's Java Flight Recorder events ({@code dev.ferry.*}, stack traces off), committed through
 * these methods. The per-message ones cost one field read while JFR is not recording them: callers
 * ask {@link #messageSentEnabled()} or {@link #messageReceivedEnabled()} before they time a
 * message, and no event object exists unless its type is enabled.
 */
public final class FerryEvents {
  /**
   * The size at and above which a message is recorded: {@code -Dferry.jfr.messageThreshold=N}
   * (bytes), 1 MiB by default.
   */
  public static final long MESSAGE_THRESHOLD = Long.getLong("ferry.jfr.messageThreshold", 1 << 20);

  private FerryEvents() {}

  /**
   * The event types whose flag the hot paths read. Loaded only once JFR has started: until then
   * no recording can want an event, and a program that never records never loads JFR's engine.
   */
  private static final class Types {
    static final EventType SENT = typeOf(MessageSentEvent.class);
    static final EventType RECEIVED = typeOf(MessageReceivedEvent.class);
    static final EventType OPENED = typeOf(ConnectionOpenedEvent.class);
    static final EventType FAILED = typeOf(HandshakeFailedEvent.class);

    /** Registers {@code type} now, so that its flag can be read without an event object. */
    private static EventType typeOf(Class<? extends Event> type) {
      FlightRecorder.register(type);
      return EventType.getEventType(type);
    }
  }

  /** Whether a message send may be recorded: then the sender takes its start time. */
  public static boolean messageSentEnabled() {
    return FlightRecorder.isInitialized() && Types.SENT.isEnabled();
  }

  /** Whether opening is recorded: then the caller looks up addresses and credentials. */
  public static boolean connectionOpenedEnabled() {
    return FlightRecorder.isInitialized() && Types.OPENED.isEnabled();
  }

  public static boolean messageReceivedEnabled() {
    return FlightRecorder.isInitialized() && Types.RECEIVED.isEnabled();
  }

  /** Records a send that began at {@code startNanos} if it was large or waited for room. */
  public static void messageSent(String connection, long size, long startNanos, boolean waited,
      boolean asynchronous) {
    if (size < MESSAGE_THRESHOLD && !waited) return;
    MessageSentEvent e = new MessageSentEvent();
    if (!e.isEnabled()) return;
    e.connection = connection;
    e.size = size;
    e.waitedForRoom = waited;
    e.asynchronous = asynchronous;
    e.callDuration = System.nanoTime() - startNanos;
    e.commit();
  }

  /** Records a receive of {@code size} bytes that began at {@code startNanos} if it was large. */
  public static void messageReceived(String connection, long size, long startNanos,
      boolean asynchronous) {
    if (size < MESSAGE_THRESHOLD) return;
    MessageReceivedEvent e = new MessageReceivedEvent();
    if (!e.isEnabled()) return;
    e.connection = connection;
    e.size = size;
    e.asynchronous = asynchronous;
    e.callDuration = System.nanoTime() - startNanos;
    e.commit();
  }

  public static void connectionOpened(String side, String transport, String localAddress,
      String peerAddress, PeerCredentials peer, long handshakeNanos, String digest) {
    ConnectionOpenedEvent e = new ConnectionOpenedEvent();
    if (!e.isEnabled()) return;
    e.side = side;
    e.transport = transport;
    e.localAddress = localAddress;
    e.peerAddress = peerAddress;
    e.peerPid = peer == null ? -1 : peer.pid();
    e.peerUid = peer == null ? -1 : peer.uid();
    e.peerGid = peer == null ? -1 : peer.gid();
    e.handshakeDuration = handshakeNanos;
    e.digest = digest;
    e.commit();
  }

  /** Whether failed handshakes are recorded: then the caller looks up the peer's address. */
  public static boolean handshakeFailedEnabled() {
    return FlightRecorder.isInitialized() && Types.FAILED.isEnabled();
  }

  /** Records a failed handshake on the {@code side} that saw it: accepted or connected. */
  public static void handshakeFailed(String side, String address, String peer, String reason,
      String message) {
    HandshakeFailedEvent e = new HandshakeFailedEvent();
    if (!e.isEnabled()) return;
    e.side = side;
    e.address = address;
    e.peer = peer;
    e.reason = reason;
    e.message = message;
    e.commit();
  }

  /** Records a close; {@code counts} are messages and bytes sent, then received. */
  public static void connectionClosed(String connection, long[] counts, long lifetimeNanos,
      String closedBy, String reason) {
    ConnectionClosedEvent e = new ConnectionClosedEvent();
    if (!e.isEnabled()) return;
    e.connection = connection;
    e.messagesSent = counts[0];
    e.bytesSent = counts[1];
    e.messagesReceived = counts[2];
    e.bytesReceived = counts[3];
    e.lifetime = lifetimeNanos;
    e.closedBy = closedBy;
    e.reason = reason;
    e.commit();
  }

  public static void descriptorPassed(String connection, boolean sent, int count) {
    DescriptorPassedEvent e = new DescriptorPassedEvent();
    if (!e.isEnabled()) return;
    e.connection = connection;
    e.direction = sent ? "sent" : "received";
    e.count = count;
    e.commit();
  }

  public static void childExited(long pid, int exitCode, long lifetimeNanos) {
    ChildExitedEvent e = new ChildExitedEvent();
    if (!e.isEnabled()) return;
    e.pid = pid;
    e.exitCode = exitCode;
    e.lifetime = lifetimeNanos;
    e.commit();
  }
}
