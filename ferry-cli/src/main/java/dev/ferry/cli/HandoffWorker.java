package dev.ferry.cli;

import dev.ferry.Connection;
import dev.ferry.handle.Child;
import dev.ferry.handle.Handles;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The Java child of {@code ferry demo handoff}: receives a connection end inside a message, waits
 * for the answer a Python process sends on it, and reports it to the parent.
 */
public final class HandoffWorker {
  private HandoffWorker() {}

  public static void main(String[] args) throws IOException {
    try (Connection parent = Child.connectToParent()) {
      Map<?, ?> message = Handles.receive(parent, Map.class, Set.of(HashMap.class));
      try (Connection replies = (Connection) message.get("reply_to")) {
        String answer = new String(replies.receiveBytes(), StandardCharsets.UTF_8);
        parent.sendBytes(("java child got: " + answer).getBytes(StandardCharsets.UTF_8));
      }
      try {
        parent.receiveBytes();
      } catch (EOFException e) {
        // The parent closed: done.
      }
    }
  }
}
