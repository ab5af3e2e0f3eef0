package dev.ferry.internal.auth;

import dev.ferry.MessageTooLargeException;
import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * A single-threaded {@link HandshakeChannel} whose peer is a fixed list of messages. It records
 * what was sent and the limit of every receive; after the last message it reports end of stream.
 */
final class ScriptedChannel implements HandshakeChannel {
  private final Deque<byte[]> inbox = new ArrayDeque<>();
  final List<byte[]> sent = new ArrayList<>();
  final List<Integer> receiveLimits = new ArrayList<>();

  ScriptedChannel(byte[]... peerMessages) {
    for (byte[] message : peerMessages) {
      inbox.add(message.clone());
    }
  }

  @Override
  public void sendMessage(byte[] message) {
    sent.add(message.clone());
  }

  @Override
  public byte[] receiveMessage(int maxLength) throws IOException {
    receiveLimits.add(maxLength);
    byte[] message = inbox.poll();
    if (message == null) {
      throw new EOFException();
    }
    if (message.length > maxLength) {
      throw new MessageTooLargeException(message.length, maxLength);
    }
    return message;
  }
}
