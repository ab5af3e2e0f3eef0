package dev.ferry.internal.events;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/** A connection closed: what went through it, how long it lived, who closed it and why. */
@Name("dev.ferry.ConnectionClosed")
@Label("Connection Closed")
@Category("Ferry")
@StackTrace(false)
final class ConnectionClosedEvent extends Event {
  @Label("Connection")
  String connection;
  @Label("Messages Sent")
  long messagesSent;
  @Label("Bytes Sent") @DataAmount
  long bytesSent;
  @Label("Messages Received")
  long messagesReceived;
  @Label("Bytes Received") @DataAmount
  long bytesReceived;
  @Label("Lifetime") @Timespan(Timespan.NANOSECONDS)
  long lifetime;
  @Label("Closed By") @Description("local, or peer where its end of stream was read first")
  String closedBy;
  @Label("Reason")
  String reason;
}
