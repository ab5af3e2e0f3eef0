package dev.ferry.internal.async;

import dev.ferry.Receiver;
import dev.ferry.Sender;
import dev.ferry.async.AsyncReceiver;
import dev.ferry.async.AsyncSender;
import dev.ferry.codec.Codec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The one-sided views of an {@link AsyncEndpoint}: only the methods of their side, so that a
 * one-way end is not mistaken for a connection that can do both.
 */
final class AsyncViews {
  private AsyncViews() {}

  /** The endpoint behind {@code end}, an endpoint itself or a sender view of one. */
  static AsyncEndpoint endpointOf(AsyncSender end) {
    return end instanceof SenderView view ? view.endpoint : (AsyncEndpoint) end;
  }

  /** What both views share: the endpoint, its state and its end. */
  private abstract static class View {
    final AsyncEndpoint endpoint;

    View(AsyncEndpoint endpoint) {
      this.endpoint = endpoint;
    }

    public boolean isClosed() {
      return endpoint.isClosed();
    }

    public void close() throws IOException {
      endpoint.close();
    }

    @Override
    public String toString() {
      return endpoint.toString();
    }
  }

  static final class ReceiverView extends View implements AsyncReceiver {
    ReceiverView(AsyncEndpoint endpoint) {
      super(endpoint);
    }

    @Override
    public Receiver receiver() {
      return endpoint.connection();
    }

    @Override
    public CompletableFuture<byte[]> receiveAsync() {
      return endpoint.receiveAsync();
    }

    @Override
    public CompletableFuture<byte[]> receiveAsync(Duration timeout) {
      return endpoint.receiveAsync(timeout);
    }

    @Override
    public <T> CompletableFuture<T> receiveAsync(Codec<T> codec) {
      return endpoint.receiveAsync(codec);
    }

    @Override
    public <T> CompletableFuture<T> receiveAsync(Codec<T> codec, Duration timeout) {
      return endpoint.receiveAsync(codec, timeout);
    }

    @Override
    public CompletableFuture<Long> receiveToAsync(WritableByteChannel sink) {
      return endpoint.receiveToAsync(sink);
    }
  }

  static final class SenderView extends View implements AsyncSender {
    SenderView(AsyncEndpoint endpoint) {
      super(endpoint);
    }

    @Override
    public Sender sender() {
      return endpoint.connection();
    }

    @Override
    public CompletableFuture<Void> sendAsync(byte[] bytes) {
      return endpoint.sendAsync(bytes);
    }

    @Override
    public CompletableFuture<Void> sendAsync(ByteBuffer buffer) {
      return endpoint.sendAsync(buffer);
    }

    @Override
    public <T> CompletableFuture<Void> sendAsync(T value, Codec<? super T> codec) {
      return endpoint.sendAsync(value, codec);
    }

    @Override
    public CompletableFuture<Void> sendFromAsync(ReadableByteChannel source, long size) {
      return endpoint.sendFromAsync(source, size);
    }

    @Override
    public long queuedBytes() {
      return endpoint.queuedBytes();
    }
  }
}
