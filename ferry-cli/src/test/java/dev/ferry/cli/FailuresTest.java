package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import org.junit.jupiter.api.Test;

/** The one line a person reads for each kind of failure: never a stack trace. */
class FailuresTest {
  @Test
  void namesAMissingFileAndWhatIsWrongWithIt() {
    assertEquals("no such file or directory: /no/such/dir/bench.json",
        Failures.describe(new NoSuchFileException("/no/such/dir/bench.json")));
    assertEquals("permission denied: /root/bench.png",
        Failures.describe(new AccessDeniedException("/root/bench.png")));
  }

  @Test
  void saysWhatTheJavaRuntimeLacksForANativeLibraryThatCannotLoad() {
    String lack = "/jdk/lib/libfontmanager.so: libharfbuzz.so.0: cannot open shared object file";
    assertEquals("this java runtime lacks what it needs: " + lack,
        Failures.describe(new UnsatisfiedLinkError(lack)));
  }

  @Test
  void suggestsMoreHeapWhenOutOfMemory() {
    assertEquals("out of memory (Java heap space): give java more with FERRY_JAVA_OPTS=-Xmx",
        Failures.describe(new OutOfMemoryError("Java heap space")));
  }

  @Test
  void printsAFailureOnAnotherThreadAsOneLine() throws Exception {
    StringWriter text = new StringWriter();
    Thread thread = new Thread(() -> {
      throw new IllegalStateException("boom");
    }, "ferry-test-uncaught");
    thread.setUncaughtExceptionHandler(Main.oneLineUncaught(new PrintWriter(text)));
    thread.start();
    thread.join();
    assertEquals("ferry: ferry-test-uncaught: internal error: java.lang.IllegalStateException: "
        + "boom\n", text.toString());
  }
}
