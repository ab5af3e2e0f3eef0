package dev.ferry.handle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ferry.LeakCheck;
import dev.ferry.Pipe;
import dev.ferry.Pythons;
import dev.ferry.async.AsyncReceiver;
import dev.ferry.async.EventLoops;
import dev.ferry.codec.Codecs;
import java.io.EOFException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The aiopipe example (seed 003) in Ferry: a one-way pipe whose write end moves to a child
 * process, Java or Python, and whose read end the parent drives from an event loop.
 */
@ExtendWith(LeakCheck.class)
class AsyncPipeChildTest {
  /** The Python child: stdlib only, the write end arrives as CPython's send_handle would send it. */
  static final String PYTHON_CHILD = String.join("\n",
      "import ferry_child",
      "from multiprocessing.connection import Connection",
      "from multiprocessing.reduction import recv_handle",
      "parent = ferry_child.connect_to_parent()",
      "tx = Connection(recv_handle(parent), readable=False)",
      "tx.send_bytes(b'hi from child process\\n')",
      "tx.close()");

  @Test
  void javaChildWritesToTheParentsAsyncReadEnd() throws Exception {
    try (ChildProcess child = ChildProcess.startJava(AsyncPipeChildMain.class, List.of())) {
      assertEquals("hi from child process\n", readOneLine(child));
    }
  }

  @Test
  void pythonChildWritesToTheParentsAsyncReadEnd() throws Exception {
    try (ChildProcess child = ChildProcess.startPythonCode(Pythons.require("3.13"), PYTHON_CHILD,
        List.of())) {
      assertEquals("hi from child process\n", readOneLine(child));
    }
  }

  /** The parent's side of the example, as docs/ASYNC.md shows it. */
  private static String readOneLine(ChildProcess child) throws Exception {
    try (EventLoops loops = EventLoops.open(); Pipe.OneWay pipe = Pipe.oneWay()) {
      // The write end is now the child's, and closed here (aiopipe: "with tx.send()").
      Handles.sendConnection(child.connection(), pipe.writer(), Ownership.MOVE);
      AsyncReceiver rx = AsyncReceiver.of(pipe.reader(), loops);
      CompletableFuture<String> line = rx.receiveAsync(Codecs.utf8(), Duration.ofSeconds(30));
      String got = line.get(60, TimeUnit.SECONDS);
      // Once the child has exited, no process holds the write end: end of stream.
      assertEquals(0, child.closeAndWait(Duration.ofSeconds(30)));
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> rx.receiveAsync().get(30, TimeUnit.SECONDS));
      assertInstanceOf(EOFException.class, e.getCause());
      return got;
    }
  }
}
