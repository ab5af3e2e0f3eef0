package dev.ferry.internal.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/** A connection ready for messages: accepted and authenticated, connected, or one end of a pipe. */
@Name("dev.ferry.ConnectionOpened")
@Label("Connection Opened")
@Category("Ferry")
@StackTrace(false)
final class ConnectionOpenedEvent extends Event {
  @Label("Side") @Description("accepted, connected or pipe")
  String side;
  @Label("Transport") @Description("unix, tcp, tls or socketpair")
  String transport;
  @Label("Local Address")
  String localAddress;
  @Label("Peer Address")
  String peerAddress;
  @Label("Peer PID") @Description("-1 where not known")
  long peerPid;
  @Label("Peer UID") @Description("-1 where not known")
  long peerUid;
  @Label("Peer GID") @Description("-1 where not known")
  long peerGid;
  @Label("Handshake Duration") @Timespan(Timespan.NANOSECONDS)
  long handshakeDuration;
  @Label("Digest") @Description("the HMAC handshake's: sha256 between modern peers, md5 with a legacy one;"
      + " peer's/ours if the two answers differ; none without a key")
  String digest;
}
