package dev.ferry.bench;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;

/** A link whose peer (a thread or a process) is told to quit and awaited before the link closes. */
final class PeeredLink implements Link {
  interface Stopper {
    void stop() throws IOException, InterruptedException;
  }

  private final Link link;
  private final Stopper stopper;

  PeeredLink(Link link, Stopper stopper) {
    this.link = link;
    this.stopper = stopper;
  }

  Link unwrap() {
    return link;
  }

  @Override
  public void send(ByteBuffer message) throws IOException {
    link.send(message);
  }

  @Override
  public int receiveInto(ByteBuffer buffer) throws IOException {
    return link.receiveInto(buffer);
  }

  @Override
  public void close() throws IOException {
    try (link) {
      stopper.stop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while stopping a peer");
    }
  }
}
