package dev.ferry.bench;

import dev.ferry.Address;
import dev.ferry.Client;
import dev.ferry.Connection;
import dev.ferry.pickle.PickleCodec;

/**
 * The second JVM of the Java-to-Java measurements: connects to the address in its first argument
 * and serves {@link PeerLoop} commands until told to quit.
 */
public final class Peer {
  private Peer() {}

  public static void main(String[] args) throws Exception {
    try (Connection connection = Client.connect(Address.parse(args[0]))) {
      PeerLoop.serve(new FerryLink(connection), PickleCodec.standard());
    }
  }
}
