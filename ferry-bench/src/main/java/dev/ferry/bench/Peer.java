package dev.ferry.bench;

import dev.ferry.Address;
import dev.ferry.Client;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.pickle.PickleCodec;

/**
 * The second JVM of the Java-to-Java measurements: connects to the address in its first argument
 * (over a shared-memory lane if the second is {@code lane}, spinning, or {@code lane-yield}) and
 * serves {@link PeerLoop}
 * commands until told to quit.
 */
public final class Peer {
  private Peer() {}

  public static void main(String[] args) throws Exception {
    String lane = args.length > 1 ? args[1] : "";
    ConnectionOptions options = lane.equals("lane") ? LaneBench.SPINNING_LANE
        : lane.equals("lane-yield") ? LaneBench.YIELDING_LANE : ConnectionOptions.defaults();
    try (Connection connection = Client.connect(Address.parse(args[0]), options)) {
      PeerLoop.serve(new FerryLink(connection), PickleCodec.standard());
    }
  }
}
