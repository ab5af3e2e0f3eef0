package dev.ferry.internal.connection;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A connection's message and byte counts each way (payload bytes; handshake messages included, as
 * they are framed messages too). Each direction has one writer at a time: whoever holds the send
 * lock counts sends, whoever holds the read lock counts receives. So a count is a plain increment
 * stored with opaque mode (no fence, no lock, no tearing of a long), and any thread may read it.
 */
final class MessageCounters {
  private static final VarHandle MESSAGES_SENT;
  private static final VarHandle BYTES_SENT;
  private static final VarHandle MESSAGES_RECEIVED;
  private static final VarHandle BYTES_RECEIVED;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      MESSAGES_SENT = lookup.findVarHandle(MessageCounters.class, "messagesSent", long.class);
      BYTES_SENT = lookup.findVarHandle(MessageCounters.class, "bytesSent", long.class);
      MESSAGES_RECEIVED = lookup.findVarHandle(MessageCounters.class, "messagesReceived", long.class);
      BYTES_RECEIVED = lookup.findVarHandle(MessageCounters.class, "bytesReceived", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** Written under the send lock. */
  private long messagesSent;
  private long bytesSent;

  /** Written under the read lock. */
  private long messagesReceived;
  private long bytesReceived;

  /** Counts {@code messages} sent with {@code bytes} of payload in all; under the send lock. */
  void sent(int messages, long bytes) {
    MESSAGES_SENT.setOpaque(this, messagesSent + messages);
    BYTES_SENT.setOpaque(this, bytesSent + bytes);
  }

  /** Counts one message of {@code bytes} received; under the read lock. */
  void received(long bytes) {
    MESSAGES_RECEIVED.setOpaque(this, messagesReceived + 1);
    BYTES_RECEIVED.setOpaque(this, bytesReceived + bytes);
  }

  long messagesSent() {
    return (long) MESSAGES_SENT.getOpaque(this);
  }

  long bytesSent() {
    return (long) BYTES_SENT.getOpaque(this);
  }

  long messagesReceived() {
    return (long) MESSAGES_RECEIVED.getOpaque(this);
  }

  long bytesReceived() {
    return (long) BYTES_RECEIVED.getOpaque(this);
  }
}
