package dev.ferry.internal.auth;

import dev.ferry.MessageTooLargeException;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;

/**
 * CPython's framing over a blocking socket, for handshakes with a real CPython: a 4-byte
 * big-endian length, then the payload. Closing it closes the socket.
 */
final class SocketHandshakeChannel implements HandshakeChannel, AutoCloseable {
  private final Socket socket;
  private final DataInputStream in;
  private final DataOutputStream out;

  SocketHandshakeChannel(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new DataInputStream(socket.getInputStream());
    this.out = new DataOutputStream(socket.getOutputStream());
  }

  @Override
  public void sendMessage(byte[] message) throws IOException {
    out.writeInt(message.length);
    out.write(message);
    out.flush();
  }

  @Override
  public byte[] receiveMessage(int maxLength) throws IOException {
    int length = in.readInt();
    if (length < 0 || length > maxLength) throw new MessageTooLargeException(length, maxLength);
    byte[] message = new byte[length];
    in.readFully(message);
    return message;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
