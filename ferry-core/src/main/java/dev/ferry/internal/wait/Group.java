package dev.ferry.internal.wait;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.SelectorProvider;

/** The connections of one selector provider in a wait set, registered with one selector. */
final class Group {
  static final SelectorProvider JDK_SELECTORS = SelectorProvider.provider();

  final Selector selector;
  /** Members in the group, guarded by the engine's state lock. */
  int count;
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
