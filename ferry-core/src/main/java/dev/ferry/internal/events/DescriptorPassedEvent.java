package dev.ferry.internal.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** Descriptors sent or received over a Unix socket (SCM_RIGHTS). */
@Name("dev.ferry.DescriptorPassed")
@Label("Descriptor Passed")
@Category("Ferry")
@StackTrace(false)
final class DescriptorPassedEvent extends Event {
  @Label("Connection")
  String connection;
  @Label("Direction") @Description("sent or received")
  String direction;
  @Label("Count")
  int count;
}
