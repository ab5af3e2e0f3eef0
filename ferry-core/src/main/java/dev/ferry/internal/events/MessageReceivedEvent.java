package dev.ferry.internal.events;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/** A message at or above the size threshold received; its duration is that of the receive. */
@Name("dev.ferry.MessageReceived")
@Label("Message Received")
@Category("Ferry")
@StackTrace(false)
final class MessageReceivedEvent extends Event {
  @Label("Connection")
  String connection;
  @Label("Size") @DataAmount
  long size;
  @Label("Duration Of The Call") @Timespan(Timespan.NANOSECONDS)
  long callDuration;
  @Label("Asynchronous")
  boolean asynchronous;
}
