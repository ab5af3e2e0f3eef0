package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Who can reach a Unix socket file, and that closing never removes a file that is not ours. */
@ExtendWith(LeakCheck.class)
class SocketFileTest {
  @TempDir Path dir;

  @Test
  void privateListenerLivesInAnOwnerOnlyDirectoryRemovedOnClose() throws Exception {
    Path socket;
    try (Listener listener = Listener.bindPrivate(ConnectionOptions.defaults())) {
      socket = ((Address.Unix) listener.address()).path();
      Path parent = socket.getParent();
      assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(parent)));
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
      try (Connection c = Client.connect(listener.address());
          Connection s = listener.accept(Duration.ofSeconds(10))) {
        c.sendBytes(new byte[] {7});
        assertEquals(7, s.receiveBytes()[0]);
      }
    }
    assertFalse(Files.exists(socket));
    assertFalse(Files.exists(socket.getParent()), "the private directory goes too");
  }

  @Test
  void userGivenPathKeepsOwnerOnlyPermissions() throws Exception {
    Path file = dir.resolve("given.sock");
    try (Listener listener = Listener.bind(new Address.Unix(file))) {
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }
    assertFalse(Files.exists(file));
  }

  @Test
  void closeRemovesItsSocketFileWhateverItsModeAndTimesBecameSoTheNextBindSucceeds()
      throws Exception {
    Path file = dir.resolve("shared.sock");
    Listener first = Listener.bind(new Address.Unix(file));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw----"));
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(60)));
    first.close();
    assertFalse(Files.exists(file), "chmod and touch leave the file the listener's");
    try (Listener second = Listener.bind(new Address.Unix(file))) {
      assertTrue(Files.exists(file));
    }
    assertFalse(Files.exists(file));
  }

  @Test
  void closeKeepsAnotherListenersSocketEvenWhenItsModeChanged() throws Exception {
    Path file = dir.resolve("taken.sock");
    try (Listener first = Listener.bind(new Address.Unix(file))) {
      Files.delete(file);
      try (Listener second = Listener.bind(new Address.Unix(file))) {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw----"));
        first.close();
        assertTrue(Files.exists(file), "the other listener's socket stays");
        try (Connection c = Client.connect(second.address());
            Connection s = second.accept(Duration.ofSeconds(10))) {
          c.sendBytes(new byte[] {1});
          assertEquals(1, s.receiveBytes()[0]);
        }
      }
    }
    assertFalse(Files.exists(file));
  }

  @Test
  void closeAfterTheSocketFileWasDeletedSucceedsAndRemovesNothingElse() throws Exception {
    Path file = dir.resolve("gone.sock");
    Listener first = Listener.bind(new Address.Unix(file));
    Files.delete(file);
    first.close(); // Python raises FileNotFoundError here; there is nothing to undo

    Listener second = Listener.bind(new Address.Unix(file));
    Files.delete(file);
    Files.writeString(file, "someone else's");
    second.close();
    assertEquals("someone else's", Files.readString(file), "a stranger's file at the path stays");

    Files.delete(file);
    try (Listener third = Listener.bind(new Address.Unix(file))) {
      Files.delete(file);
      try (Listener fourth = Listener.bind(new Address.Unix(file))) {
        third.close();
        assertTrue(Files.exists(file), "closing the old listener kept the new one's socket");
        try (Connection c = Client.connect(fourth.address());
            Connection s = fourth.accept(Duration.ofSeconds(10))) {
          c.sendBytes(new byte[] {1});
          assertEquals(1, s.receiveBytes()[0]);
        }
      }
    }
    assertFalse(Files.exists(file));
  }
}
