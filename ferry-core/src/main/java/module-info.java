/**
 * Ferry: message-oriented connections between processes, byte-compatible with CPython's
 * {@code multiprocessing.connection}.
 */
module dev.ferry {
  requires java.xml;
  requires jdk.jfr;
  requires org.newsclub.net.unix;

  exports dev.ferry;
  exports dev.ferry.codec;
  exports dev.ferry.handle;
  exports dev.ferry.async;
}
