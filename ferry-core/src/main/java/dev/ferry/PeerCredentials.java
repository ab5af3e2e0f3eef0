package dev.ferry;

/**
 * Who is at the other end of a Unix socket, as the kernel saw it when the peer connected
 * ({@code SO_PEERCRED} on Linux): not something the peer can claim, so a same-host service can
 * trust it more than anything sent in a message.
 *
 * <p>Only Unix socket connections have credentials; see {@link Connection#peerCredentials()}.
 */
public record PeerCredentials(long pid, long uid, long gid) {}
