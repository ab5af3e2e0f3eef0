package dev.ferry.internal.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * A handshake that failed: a client a listener did not accept (its handshake failed or its peer
 * policy refused it), or a client whose connect failed in its TLS or HMAC handshake.
 */
@Name("dev.ferry.HandshakeFailed")
@Label("Handshake Failed")
@Category("Ferry")
@StackTrace(false)
final class HandshakeFailedEvent extends Event {
  @Label("Side") @Description("accepted (the listener's side) or connected (the client's)")
  String side;
  @Label("Address") @Description("the listener's address")
  String address;
  @Label("Peer")
  String peer;
  @Label("Reason") @Description("wrong key, timeout, protocol error or refused by policy")
  String reason;
  @Label("Message")
  String message;
}
