package dev.ferry.internal.async;

import dev.ferry.internal.connection.AsyncPort;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * One connection's pending asynchronous receives, completed in the order they were made. The loop
 * reads only while a receive is pending; a message whose receive went away (cancelled, timed out)
 * is carried, whole, to the next one. Loop thread only, except {@link #receive}.
 */
final class ReceiveQueue {

  /** Turns a received payload into the future's value; may throw a CodecException. */
  interface Decoder<T> {
    T decode(byte[] message) throws IOException;
  }

  private static class Receive<T> {
    final CompletableFuture<T> future = new CompletableFuture<>();
    final long limit;
    final Decoder<T> decoder;
    EventLoop.Timer timer;

    Receive(long limit, Decoder<T> decoder) {
      this.limit = limit;
      this.decoder = decoder;
    }
  }

  /**
   * A receive that streams its message to a sink instead of assembling an array. Its sink stops
   * taking bytes once the future is done (cancelled, timed out), so that the rest is skipped.
   */
  private static final class StreamReceive extends Receive<Long> {
    final WritableByteChannel sink;

    StreamReceive(long limit, WritableByteChannel target) {
      super(limit, null);
      this.sink = new WritableByteChannel() {
        @Override
        public int write(ByteBuffer src) throws IOException {
          if (future.isDone()) throw new IOException("receive is over");
          return target.write(src);
        }

        @Override
        public boolean isOpen() {
          return target.isOpen();
        }

        @Override
        public void close() throws IOException {
          target.close();
        }
      };
    }
  }

  private final AsyncEndpoint endpoint;
  private final AsyncPort port;
  private final EventLoop loop;

  // Loop thread only.
  private final ArrayDeque<Receive<?>> receives = new ArrayDeque<>();
  private final ArrayDeque<byte[]> carried = new ArrayDeque<>();
  /** The selector just reported the socket readable: a first read of nothing is end of stream. */
  private boolean selected;

  ReceiveQueue(AsyncEndpoint endpoint, AsyncPort port, EventLoop loop) {
    this.endpoint = endpoint;
    this.port = port;
    this.loop = loop;
  }

  /** A receive of the next message, of at most {@code limit} bytes, decoded by {@code decoder}. */
  <T> CompletableFuture<T> receive(long limit, Duration timeout, Decoder<T> decoder) {
    return receive(new Receive<>(limit, decoder), timeout);
  }

  /** A receive that streams the next message to {@code sink}; completes with its length. */
  CompletableFuture<Long> receiveTo(WritableByteChannel sink) {
    return receive(new StreamReceive(port.maxMessageSize(), sink), null);
  }

  private <T> CompletableFuture<T> receive(Receive<T> r, Duration timeout) {
    if (endpoint.isClosed() || port.isClosed()) {
      r.future.completeExceptionally(AsyncEndpoint.closedException());
      return r.future;
    }
    if (!port.isReadable()) {
      r.future.completeExceptionally(new IllegalStateException("connection is write-only"));
      return r.future;
    }
    loop.execute(() -> {
      if (endpoint.isClosed()) {
        r.future.completeExceptionally(AsyncEndpoint.closedException());
        return;
      }
      receives.add(r);
      if (timeout != null) startTimer(r, timeout);
      deliver();
    });
    return r.future;
  }

  private void startTimer(Receive<?> r, Duration timeout) {
    r.timer = loop.schedule(Math.max(0, AsyncEndpoint.toNanos(timeout)), () -> {
      r.future.completeExceptionally(new SocketTimeoutException(
          "receive timed out after " + timeout.toMillis() + " ms"));
      endpoint.updateInterest();
    });
  }

  /** Loop thread: the selector reported the socket readable. */
  void readable() {
    selected = true;
    deliver();
    selected = false;
  }

  /** Loop thread: hands arrived messages to pending receives, in order. */
  void deliver() {
    while (!endpoint.isClosed()) {
      Receive<?> r = receives.peek();
      if (r == null) break;
      if (r.future.isDone()) {
        // Cancelled or timed out; one that was streaming its message leaves the rest unread.
        if (r instanceof StreamReceive) port.abandonStream();
        dropHead();
        continue;
      }
      if (r instanceof StreamReceive s) {
        if (!stream(s)) break;
        continue;
      }
      byte[] message = carried.poll();
      if (message == null) {
        try {
          message = readNow(r.limit);
        } catch (IOException | RuntimeException e) {
          if (failHead(r, e)) return;
          continue; // the next pending receive gets the same end (EOF again, and so on)
        }
        if (message == null) break;
      }
      dropHead();
      if (!complete(r, message)) carried.addFirst(message); // cancelled meanwhile: keep it
    }
    endpoint.updateInterest();
  }

  /** The next whole message if it has arrived, else null. */
  private byte[] readNow(long limit) throws IOException {
    try {
      EventLoop.clearInterrupt();
      return port.receiveAvailable(limit, selected, endpoint.hungUp(), loop.scratch());
    } finally {
      selected = false;
    }
  }

  /**
   * Loop thread: moves what has arrived of the next message to {@code s}'s sink; true if the
   * receive is done (completed or failed), false if the rest has yet to arrive.
   */
  private boolean stream(StreamReceive s) {
    byte[] message = carried.poll(); // a cancelled array receive read it whole: write it out
    if (message != null) {
      dropHead();
      try {
        ByteBuffer b = ByteBuffer.wrap(message);
        while (b.hasRemaining()) s.sink.write(b);
      } catch (IOException | RuntimeException e) {
        s.future.completeExceptionally(e);
        return true;
      }
      s.future.complete((long) message.length);
      return true;
    }
    long length;
    try {
      EventLoop.clearInterrupt();
      length = port.transferAvailable(s.limit, s.sink, selected, endpoint.hungUp(), loop.scratch());
    } catch (IOException | RuntimeException e) {
      failHead(s, e);
      return true;
    } finally {
      selected = false;
    }
    if (length < 0) return false;
    dropHead();
    s.future.complete(length);
    return true;
  }

  /**
   * Loop thread: fails the receive at the head with {@code e}. True if that closed the connection
   * (a too-large message on a read-only end does, as in CPython) and everything else failed too.
   */
  private boolean failHead(Receive<?> r, Throwable e) {
    dropHead();
    boolean wasClosed = endpoint.isClosed();
    // Closed before the future fails, so that whoever sees the failure sees the end closed too.
    boolean closedNow = !wasClosed && endpoint.closedUnderneath();
    r.future.completeExceptionally(wasClosed ? AsyncEndpoint.closedException() : e);
    if (closedNow) endpoint.failEverything();
    return closedNow;
  }

  private void dropHead() {
    Receive<?> r = receives.poll();
    if (r != null && r.timer != null) r.timer.cancel();
  }

  private static <T> boolean complete(Receive<T> r, byte[] message) {
    if (r.future.isDone()) return false;
    T value;
    try {
      value = r.decoder.decode(message);
    } catch (IOException | RuntimeException e) {
      r.future.completeExceptionally(e); // the message is consumed, as a blocking receive does
      return true;
    }
    return r.future.complete(value);
  }

  /** Loop thread: whether a receive waits, so that the loop should read. */
  boolean wantsRead() {
    while (!receives.isEmpty() && receives.peek().future.isDone()) dropHead();
    return !receives.isEmpty();
  }

  /** Loop thread: the connection is closed; fail every pending receive. */
  void failAll(IOException e) {
    Receive<?> r;
    while ((r = receives.poll()) != null) {
      if (r.timer != null) r.timer.cancel();
      r.future.completeExceptionally(e);
    }
    carried.clear();
  }
}
