/**
 * Ferry: message-oriented connections between processes, byte-compatible with CPython's
 * {@code multiprocessing.connection}.
 */
@SuppressWarnings("module") // the qualified export's ferry-pickle is built after this module
module dev.ferry {
  requires java.xml;
  requires jdk.jfr;
  requires org.newsclub.net.unix;

  exports dev.ferry;
  exports dev.ferry.codec;
  exports dev.ferry.handle;
  exports dev.ferry.async;
  // The resource sharer duplicates descriptors as CPython's DupFd does.
  exports dev.ferry.internal.handle to dev.ferry.pickle;
  // Bulk messages: frames with descriptors attached, and the shared memory they name.
  exports dev.ferry.internal.connection to dev.ferry.pickle;
  exports dev.ferry.internal.memory to dev.ferry.pickle;
}
