package dev.ferry.cli;

import dev.ferry.Connection;
import dev.ferry.handle.Access;
import dev.ferry.handle.Child;
import dev.ferry.handle.Handles;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The Java child of {@code ferry demo handoff}: receives a link to Python inside a message, then
 * over that link the reply_to end Python had from the parent, and answers on it.
 */
public final class HandoffWorker {
  private HandoffWorker() {}

  public static void main(String[] args) throws IOException {
    try (Connection parent = Child.connectToParent()) {
      Map<?, ?> message = Handles.receive(parent, Map.class, Set.of(HashMap.class));
      String question = (String) message.get("question");
      // The reply_to end comes from Python, which had it from our parent.
      try (Connection python = (Connection) message.get("python");
          Connection replyTo = Handles.receiveConnection(python, Access.DUPLEX)) {
        replyTo.sendBytes(("java child " + ProcessHandle.current().pid() + " says 42 to: "
            + question).getBytes(StandardCharsets.UTF_8));
      }
      parent.sendBytes("answered on the connection that came through python"
          .getBytes(StandardCharsets.UTF_8));
      try {
        parent.receiveBytes();
      } catch (EOFException e) {
        // The parent closed: done.
      }
    }
  }
}
