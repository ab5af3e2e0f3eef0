package dev.ferry.internal.accept;

import dev.ferry.Address;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * A listener's socket file: who may reach it, and removing it on close only while the path still
 * holds the socket the listener bound.
 *
 * <p>The identity is the device and inode, and the file type. A bound socket holds its file's
 * inode even after the file was deleted, so as long as the listening socket is open no other file
 * on that device can get the same number: check and remove before closing the socket. Mode,
 * owner and times are left out on purpose: {@code chmod 660} to let a group in must not keep the
 * file from being removed, which would make the next bind fail with "address already in use".
 */
final class SocketFile {
  /** {@code S_IFMT} and {@code S_IFSOCK} of {@code stat(2)}'s mode. */
  private static final int TYPE_MASK = 0170000;
  private static final int SOCKET_TYPE = 0140000;

  private final Path path;
  private final Object device;
  private final Object inode;

  private SocketFile(Path path, Object device, Object inode) {
    this.path = path;
    this.device = device;
    this.inode = inode;
  }

  /**
   * The socket file a listener just bound at {@code address}, or null where there is none to
   * remove later (not a Unix path, or a file system that does not tell inodes).
   */
  static SocketFile of(Address address) {
    if (!(address instanceof Address.Unix unix)) return null;
    Map<String, Object> now = identity(unix.path());
    return now == null ? null : new SocketFile(unix.path(), now.get("dev"), now.get("ino"));
  }

  /** Makes the file readable and writable by its owner only. */
  void ownerOnly() throws IOException {
    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
  }

  /**
   * Removes the file if the path still holds this socket. Python raises FileNotFoundError when it
   * is gone; a close that fails for a file that is already gone helps nobody. Call it while the
   * socket is still open (see above).
   */
  void deleteIfOurs() throws IOException {
    Map<String, Object> now = identity(path);
    if (now == null || !device.equals(now.get("dev")) || !inode.equals(now.get("ino"))) return;
    if ((((Integer) now.get("mode")) & TYPE_MASK) != SOCKET_TYPE) return;
    Files.deleteIfExists(path);
  }

  private static Map<String, Object> identity(Path path) {
    try {
      return Files.readAttributes(path, "unix:dev,ino,mode", LinkOption.NOFOLLOW_LINKS);
    } catch (IOException | UnsupportedOperationException e) {
      return null;
    }
  }

  /**
   * A fresh directory only this user can enter (0700, with no window), under {@code tmp}, or
   * under {@code /tmp} if a socket path under {@code tmp} would be too long.
   */
  static Path privateDirectory(Path tmp) throws IOException {
    FileAttribute<?> ownerOnly =
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    // "ferry-" + 10 random digits + "/sock": keep the whole path under sun_path's 107 bytes.
    int room = Address.MAX_UNIX_NAME_BYTES - "/ferry-01234567890123456789/sock".length();
    if (tmp.toString().getBytes(StandardCharsets.UTF_8).length > room) tmp = Path.of("/tmp");
    return Files.createTempDirectory(tmp, "ferry-", ownerOnly);
  }

  /** Removes {@code dir} if it is empty. */
  static void deleteEmptyDirectory(Path dir) throws IOException {
    try {
      Files.deleteIfExists(dir);
    } catch (DirectoryNotEmptyException e) {
      // Someone with our uid put files there: theirs to keep.
    }
  }
}
