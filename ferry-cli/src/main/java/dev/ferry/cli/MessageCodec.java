package dev.ferry.cli;

import dev.ferry.Connection;
import dev.ferry.codec.Codecs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;

/**
 * How the command line turns its text into messages and messages into lines of text.
 *
 * <p>{@code bytes} takes any payload: sent text is its UTF-8 bytes, received payloads print as
 * UTF-8 text. {@code utf8} insists on valid UTF-8 both ways: a peer that sends anything else is
 * sending garbage.
 */
enum MessageCodec {
  BYTES {
    @Override
    void send(Connection connection, String text) throws IOException {
      connection.sendBytes(text.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    String receiveReply(Connection connection) throws IOException {
      return new String(connection.receiveBytes(), StandardCharsets.UTF_8); // replaces malformed
    }

    @Override
    String receiveLine(Connection connection) throws IOException {
      return render(connection.receiveBytes());
    }

    @Override
    void echo(Connection connection) throws IOException {
      connection.sendBytes(connection.receiveBytes());
    }
  },

  UTF8 {
    @Override
    void send(Connection connection, String text) throws IOException {
      connection.send(text, Codecs.utf8());
    }

    @Override
    String receiveReply(Connection connection) throws IOException {
      return connection.receive(Codecs.utf8());
    }

    @Override
    String receiveLine(Connection connection) throws IOException {
      return connection.receive(Codecs.utf8());
    }

    @Override
    void echo(Connection connection) throws IOException {
      // Valid UTF-8 decodes and encodes back to the same bytes; anything else is refused.
      connection.send(connection.receive(Codecs.utf8()), Codecs.utf8());
    }
  };

  /** The prefix of a payload printed in hexadecimal because it is not valid UTF-8. */
  static final String HEX_PREFIX = "hex:";

  /** Sends {@code text} as one message. */
  abstract void send(Connection connection, String text) throws IOException;

  /** Receives one message as text for {@code send}: malformed UTF-8 is replaced, not refused. */
  abstract String receiveReply(Connection connection) throws IOException;

  /** Receives one message as text for {@code listen}: payloads that aren't UTF-8 print as hex. */
  abstract String receiveLine(Connection connection) throws IOException;

  /** Receives one message and sends it back unchanged. */
  abstract void echo(Connection connection) throws IOException;

  /** The name on the command line. */
  String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Valid UTF-8 as text; anything else as {@code hex:} and lowercase hexadecimal. */
  static String render(byte[] payload) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(payload))
          .toString();
    } catch (CharacterCodingException e) {
      return HEX_PREFIX + HexFormat.of().formatHex(payload);
    }
  }

  static final class Converter implements ITypeConverter<MessageCodec> {
    @Override
    public MessageCodec convert(String value) {
      for (MessageCodec codec : values()) {
        if (codec.cliName().equals(value)) return codec;
      }
      throw new BadValueException("unknown codec: " + value + " (expected bytes or utf8)");
    }
  }

  static final class Names implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return List.of(BYTES.cliName(), UTF8.cliName()).iterator();
    }
  }
}
