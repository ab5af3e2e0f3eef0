package dev.ferry.internal.events;

import jdk.jfr.Category;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/** A child process started through {@code dev.ferry.handle} exited. */
@Name("dev.ferry.ChildExited")
@Label("Child Exited")
@Category("Ferry")
@StackTrace(false)
final class ChildExitedEvent extends Event {
  @Label("PID")
  long pid;
  @Label("Exit Code")
  int exitCode;
  @Label("Lifetime") @Timespan(Timespan.NANOSECONDS)
  long lifetime;
}
