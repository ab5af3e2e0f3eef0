package dev.ferry.internal.auth;

import dev.ferry.MessageTooLargeException;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Two connected in-memory {@link HandshakeChannel}s. Each end records what it sent and the limit of
 * every receive, so tests can check the 256-byte cap. Closing an end makes the other end's next
 * receive throw {@link EOFException}, like a socket whose peer went away; a receive that waits
 * longer than {@link #RECEIVE_TIMEOUT_SECONDS} throws {@link SocketTimeoutException} so a broken
 * handshake fails the test instead of hanging it.
 */
final class ChannelPair {
  static final long RECEIVE_TIMEOUT_SECONDS = 10;

  /** Empty marker put in a queue by {@link End#close()}; never sent as a message. */
  private static final Optional<byte[]> EOF = Optional.empty();

  final End server;
  final End client;

  ChannelPair() {
    BlockingQueue<Optional<byte[]>> toServer = new LinkedBlockingQueue<>();
    BlockingQueue<Optional<byte[]>> toClient = new LinkedBlockingQueue<>();
    this.server = new End(toServer, toClient);
    this.client = new End(toClient, toServer);
  }

  static final class End implements HandshakeChannel, AutoCloseable {
    private final BlockingQueue<Optional<byte[]>> inbox;
    private final BlockingQueue<Optional<byte[]>> outbox;
    final List<byte[]> sent = new CopyOnWriteArrayList<>();
    final List<Integer> receiveLimits = new CopyOnWriteArrayList<>();

    private End(BlockingQueue<Optional<byte[]>> inbox, BlockingQueue<Optional<byte[]>> outbox) {
      this.inbox = inbox;
      this.outbox = outbox;
    }

    @Override
    public void sendMessage(byte[] message) {
      sent.add(message.clone());
      outbox.add(Optional.of(message.clone()));
    }

    @Override
    public byte[] receiveMessage(int maxLength) throws IOException {
      receiveLimits.add(maxLength);
      Optional<byte[]> message;
      try {
        message = inbox.poll(RECEIVE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while receiving");
      }
      if (message == null) {
        throw new SocketTimeoutException("no message within " + RECEIVE_TIMEOUT_SECONDS + " s");
      }
      if (message.isEmpty()) {
        inbox.add(EOF); // stays at end of stream for any later receive
        throw new EOFException();
      }
      byte[] bytes = message.get();
      if (bytes.length > maxLength) {
        throw new MessageTooLargeException(bytes.length, maxLength);
      }
      return bytes;
    }

    @Override
    public void close() {
      outbox.add(EOF);
    }
  }
}
