package dev.ferry.internal.events;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/** A message at or above the size threshold sent, or a send that waited for room; its duration. */
@Name("dev.ferry.MessageSent")
@Label("Message Sent")
@Category("Ferry")
@StackTrace(false)
final class MessageSentEvent extends Event {
  @Label("Connection")
  String connection;
  @Label("Size") @DataAmount
  long size;
  @Label("Duration Of The Call") @Timespan(Timespan.NANOSECONDS)
  long callDuration;
  @Label("Waited For Room")
  boolean waitedForRoom;
  @Label("Asynchronous")
  boolean asynchronous;
}
