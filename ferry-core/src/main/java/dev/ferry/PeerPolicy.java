package dev.ferry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which local users may connect to a Unix socket listener, checked on the peer's kernel-reported
 * credentials as soon as it is accepted, before the handshake: a refused client costs no handshake
 * and sees its connection closed. Set it with {@link ConnectionOptions.Builder#peerPolicy}.
 *
 * <p>This is a second lock beside the socket file's owner-only permissions and the authkey, not a
 * replacement for them. It applies to Unix socket connections only; a listener on TCP with a policy
 * refuses to start, since TCP peers carry no credentials.
 */
public final class PeerPolicy {
  private final Set<Long> uids;

  private PeerPolicy(Set<Long> uids) {
    this.uids = uids;
  }

  /** Only processes running as the same user as this one. */
  public static PeerPolicy sameUser() {
    return new PeerPolicy(Set.of(currentUid()));
  }

  /** Only processes running as one of {@code uids}. */
  public static PeerPolicy uids(long... uids) {
    Set<Long> set = new TreeSet<>();
    for (long uid : uids) {
      if (uid < 0) throw new IllegalArgumentException("uid < 0: " + uid);
      set.add(uid);
    }
    if (set.isEmpty()) throw new IllegalArgumentException("no uids: nobody could connect");
    return new PeerPolicy(Set.copyOf(set));
  }

  /** The uids let in. */
  public Set<Long> allowedUids() {
    return uids;
  }

  /** Whether a peer with these credentials may go on to the handshake. */
  public boolean allows(PeerCredentials peer) {
    return uids.contains(Objects.requireNonNull(peer, "peer").uid());
  }

  /** The effective user id of this process (Linux: the owner of {@code /proc/self}). */
  public static long currentUid() {
    try {
      return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
    } catch (IOException | UnsupportedOperationException e) {
      throw new IllegalStateException("cannot read this process's uid: " + e, e);
    }
  }

  @Override
  public String toString() {
    return "PeerPolicy[uids=" + uids + "]";
  }
}
