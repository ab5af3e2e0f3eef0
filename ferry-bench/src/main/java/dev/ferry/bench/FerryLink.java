package dev.ferry.bench;

import dev.ferry.Connection;
import java.io.IOException;
import java.nio.ByteBuffer;

/** A Ferry connection as a {@link Link}. */
final class FerryLink implements Link {
  final Connection connection;

  FerryLink(Connection connection) {
    this.connection = connection;
  }

  @Override
  public void send(ByteBuffer message) throws IOException {
    int position = message.position();
    connection.sendBytes(message);
    message.position(position);
  }

  @Override
  public int receiveInto(ByteBuffer buffer) throws IOException {
    return connection.receiveBytesInto(buffer);
  }

  @Override
  public void close() throws IOException {
    connection.close();
  }
}
