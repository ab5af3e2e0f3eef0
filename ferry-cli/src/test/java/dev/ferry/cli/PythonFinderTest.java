package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PythonFinderTest {
  @TempDir
  Path dir;

  @Test
  void prefersFerryPythonOverEverythingElse() throws IOException {
    Path chosen = executable(dir.resolve("chosen/python"));
    executable(dir.resolve("bin/python3"));
    Map<String, String> env = Map.of("FERRY_PYTHON", chosen.toString(),
        "PATH", dir.resolve("bin").toString());
    assertEquals(Optional.of(chosen), PythonFinder.find(env));
  }

  @Test
  void looksUpFerryPythonNameOnPath() throws IOException {
    Path python = executable(dir.resolve("bin/python3.12"));
    Map<String, String> env = Map.of("FERRY_PYTHON", "python3.12",
        "PATH", "/nonexistent:" + dir.resolve("bin"));
    assertEquals(Optional.of(python), PythonFinder.find(env));
  }

  @Test
  void failsWhenFerryPythonIsNotAnExecutable() {
    Map<String, String> env = Map.of("FERRY_PYTHON", dir.resolve("missing").toString());
    CommandFailure e = assertThrows(CommandFailure.class, () -> PythonFinder.find(env));
    assertEquals("FERRY_PYTHON is not an executable: " + dir.resolve("missing"), e.getMessage());
  }

  @Test
  void takesPython3FromPathBeforePyenv() throws IOException {
    Path python3 = executable(dir.resolve("bin/python3"));
    executable(dir.resolve("pyenv/versions/3.13.0/bin/python"));
    Map<String, String> env = Map.of("PATH", dir.resolve("bin").toString(),
        "PYENV_ROOT", dir.resolve("pyenv").toString());
    assertEquals(Optional.of(python3), PythonFinder.find(env));
  }

  @Test
  void takesNewestPyenvPython3ByVersionNotByName() throws IOException {
    executable(dir.resolve("pyenv/versions/2.7.18/bin/python"));
    executable(dir.resolve("pyenv/versions/3.9.18/bin/python"));
    executable(dir.resolve("pyenv/versions/3.12.0rc1/bin/python"));
    Path newest = executable(dir.resolve("pyenv/versions/3.12.0/bin/python"));
    executable(dir.resolve("pyenv/versions/3.10.13/bin/python"));
    Files.createDirectories(dir.resolve("pyenv/versions/3.14.0/bin")); // no python inside
    Map<String, String> env = Map.of("PATH", dir.resolve("empty").toString(),
        "PYENV_ROOT", dir.resolve("pyenv").toString());
    assertEquals(Optional.of(newest), PythonFinder.find(env));
  }

  @Test
  void findsNothingWithoutPathOrPyenv() {
    Map<String, String> env = Map.of("PATH", dir.resolve("empty").toString(),
        "HOME", dir.toString());
    assertEquals(Optional.empty(), PythonFinder.find(env));
  }

  private static Path executable(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, "#!/bin/sh\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
    return file;
  }
}
