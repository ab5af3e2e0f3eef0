package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class LeakCheckTest {
  @Test
  void closingADescriptorIsNotReportedAsALeak() throws IOException {
    Path file = Files.createTempFile("ferry-leak", ".tmp");
    try {
      // The channel takes the lowest free descriptor; once it closes, the next listing's own
      // directory descriptor gets that number.
      FileChannel channel = FileChannel.open(file);
      Set<String> before = LeakCheck.openDescriptors();
      channel.close();
      Set<String> after = new TreeSet<>(LeakCheck.openDescriptors());
      after.removeAll(before);
      assertEquals(Set.of(), after);
    } finally {
      Files.delete(file);
    }
  }
}
