package dev.ferry.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

/** What {@code echo} and {@code listen} do with each message on the event loops. */
final class LoopSessions {
  private LoopSessions() {}

  /** Makes a command's handler once the server's printing thread and blocking pool exist. */
  interface Factory {
    EventLoopServer.Handler create(Lines lines, Executor blocking);
  }

  /**
   * Echo: answers each message ({@link MessageCodec#answer}) and sends the reply. An answer that
   * may block (pickle fetching carried connections) runs on {@code blocking}, never on the loop.
   */
  static EventLoopServer.Handler echo(MessageCodec codec, Executor blocking) {
    return (client, message) -> {
      CompletableFuture<MessageCodec.Reply> reply = codec.answerMayBlock()
          ? CompletableFuture.supplyAsync(() -> answer(codec, message), blocking)
          : completed(() -> codec.answer(message));
      return reply.thenCompose(r -> client.sendAsync(r.payload()).thenCompose(sent ->
          r.refused() == null ? CompletableFuture.<Void>completedFuture(null)
              : CompletableFuture.<Void>failedFuture(
                  new MessageCodec.RefusedMessage(r.refused(), null))));
    };
  }

  /** Listen: prints each message as one line on {@code out}; the next waits until it printed. */
  static EventLoopServer.Handler listen(MessageCodec codec, Lines lines, PrintWriter out) {
    return (client, message) ->
        completed(() -> codec.line(message)).thenCompose(line -> lines.print(out, line));
  }

  private interface Step<T> {
    T run() throws IOException;
  }

  private static <T> CompletableFuture<T> completed(Step<T> step) {
    try {
      return CompletableFuture.completedFuture(step.run());
    } catch (IOException | RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private static MessageCodec.Reply answer(MessageCodec codec, byte[] message) {
    try {
      return codec.answer(message);
    } catch (IOException e) {
      throw new CompletionException(e);
    }
  }
}
