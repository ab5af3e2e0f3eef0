package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class AddressTest {

  @Test
  void parsesEveryFormAndPrintsItBack() {
    assertEquals(new Address.Unix(Path.of("/tmp/a.sock")), Address.parse("unix:/tmp/a.sock"));
    assertEquals(new Address.Abstract("app"), Address.parse("unix:@app"));
    assertEquals(new Address.Tcp("127.0.0.1", 6000), Address.parse("tcp:127.0.0.1:6000"));
    assertEquals(new Address.Tcp("::1", 0), Address.parse("tcp:[::1]:0"));
    for (String text : new String[] {"unix:/tmp/a.sock", "unix:@app", "tcp:localhost:1",
        "tcp:[::1]:6000"}) {
      assertEquals(text, Address.parse(text).toString());
    }
  }

  @Test
  void namesTheBadTextAndTheLimit() {
    assertMessage("unknown address syntax: foo (expected unix:/path, unix:@name, tcp:host:port)", "foo");
    assertMessage("missing port in address: tcp:localhost", "tcp:localhost");
    assertMessage("bad port in address: tcp:localhost:http", "tcp:localhost:http");
    assertMessage("port out of range: 70000", "tcp:localhost:70000");
    assertMessage("ipv6 host needs brackets, like tcp:[::1]:6000: tcp:::1:5", "tcp:::1:5");
    assertMessage("empty unix path: unix:", "unix:");
    String longPath = "/tmp/" + "x".repeat(110);
    assertMessage("unix path too long: 115 bytes > limit 107: " + longPath, "unix:" + longPath);
    assertMessage("abstract name too long: 108 bytes > limit 107: " + "n".repeat(108),
        "unix:@" + "n".repeat(108));
  }

  private static void assertMessage(String expected, String text) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Address.parse(text));
    assertEquals(expected, e.getMessage());
  }
}
