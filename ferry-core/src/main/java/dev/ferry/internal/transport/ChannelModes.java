package dev.ferry.internal.transport;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * What {@link SocketTransport} needs to know of threads and selectors to switch a socket between
 * blocking and non-blocking mode: whether the caller is a virtual thread, and how to let go of a
 * selector of the socket's own (junixsocket's selector close leaves its key on the channel).
 */
final class ChannelModes {
  /** {@code Thread.isVirtual()} on JDK 21+, absent on 17 (where no thread is virtual). */
  private static final MethodHandle IS_VIRTUAL = isVirtualHandle();

  private ChannelModes() {}

  static boolean isVirtualThread() {
    if (IS_VIRTUAL == null) return false;
    try {
      return (boolean) IS_VIRTUAL.invokeExact(Thread.currentThread());
    } catch (Throwable e) {
      throw new AssertionError(e);
    }
  }

  private static MethodHandle isVirtualHandle() {
    try {
      return MethodHandles.publicLookup()
          .findVirtual(Thread.class, "isVirtual", MethodType.methodType(boolean.class));
    } catch (NoSuchMethodException | IllegalAccessException e) {
      return null;
    }
  }

  /** Cancels the key first: junixsocket's selector close leaves it on the channel. */
  static void dropSelector(Selector selector) throws IOException {
    for (SelectionKey key : selector.keys()) key.cancel();
    selector.close();
  }

  /**
   * Closes {@code selector} with the channel deregistered: junixsocket's selector close leaves
   * the channel registered, and only a select after the cancel deregisters it.
   */
  static void deregister(Selector selector) throws IOException {
    if (selector == null) return;
    try {
      for (SelectionKey key : selector.keys()) key.cancel();
      selector.selectNow();
    } catch (ClosedSelectorException e) {
      // Closed already: nothing to deregister from it.
    } finally {
      selector.close();
    }
  }

  static void closeSelector(Selector selector) throws IOException {
    if (selector != null) selector.close();
  }

  /**
   * Whether the peer hung up: junixsocket's selector cancels a key itself when poll reports a
   * hang-up, in the very select that also reports data, and never reports the channel again; a
   * wait on it would last forever.
   */
  static boolean hungUp(Selector selector) {
    for (SelectionKey key : selector.keys()) if (!key.isValid()) return true;
    return selector.keys().isEmpty();
  }

  /**
   * One read ({@code reading}) or write on {@code channel} of at most
   * {@link SocketTransport#HEAP_WINDOW} bytes of a heap buffer, of any number of a direct one.
   */
  static int windowed(SocketChannel channel, ByteBuffer buffer, boolean reading)
      throws IOException {
    int limit = buffer.limit();
    if (!buffer.isDirect() && buffer.remaining() > SocketTransport.HEAP_WINDOW) {
      buffer.limit(buffer.position() + SocketTransport.HEAP_WINDOW);
    }
    try {
      return reading ? channel.read(buffer) : channel.write(buffer);
    } finally {
      buffer.limit(limit);
    }
  }
}
