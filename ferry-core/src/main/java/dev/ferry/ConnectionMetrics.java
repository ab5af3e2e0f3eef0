package dev.ferry;

/**
 * A snapshot of one connection's counts since it opened: messages and payload bytes each way
 * (the handshake's messages included, as they are framed messages too), and the bytes of
 * asynchronous sends queued but not yet written. Counting costs a plain store per message by the
 * thread that holds the send or read lock; a snapshot reads each count without a lock, so counts
 * taken while messages flow may be a message apart from each other.
 */
public record ConnectionMetrics(long messagesSent, long bytesSent, long messagesReceived,
    long bytesReceived, long queuedAsyncBytes) {}
