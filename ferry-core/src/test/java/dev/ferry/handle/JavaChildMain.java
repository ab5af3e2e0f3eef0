package dev.ferry.handle;

import dev.ferry.Connection;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** A Java child for the handle tests, started by {@link ChildProcess#startJava}. */
public final class JavaChildMain {
  private JavaChildMain() {}

  public static void main(String[] args) throws IOException {
    try (Connection parent = Child.connectToParent()) {
      switch (args[0]) {
        case "echo" -> {
          while (true) {
            byte[] message;
            try {
              message = parent.receiveBytes();
            } catch (EOFException e) {
              return;
            }
            parent.sendBytes(message);
          }
        }
        case "reply-to" -> {
          // The parent sends {"reply_to": connection}; a third process answers on it.
          Map<?, ?> message = Handles.receive(parent, Map.class, Set.of(HashMap.class));
          try (Connection replies = (Connection) message.get("reply_to")) {
            byte[] answer = replies.receiveBytes();
            parent.sendBytes(("java child got: " + new String(answer, StandardCharsets.UTF_8))
                .getBytes(StandardCharsets.UTF_8));
          }
          awaitEnd(parent);
        }
        default -> throw new IllegalArgumentException("unknown mode: " + args[0]);
      }
    }
  }

  private static void awaitEnd(Connection parent) throws IOException {
    try {
      parent.receiveBytes();
    } catch (EOFException e) {
      // The parent closed: done.
    }
  }
}
