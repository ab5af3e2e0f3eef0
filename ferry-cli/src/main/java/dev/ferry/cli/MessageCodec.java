package dev.ferry.cli;

import dev.ferry.Connection;
import dev.ferry.codec.Codec;
import dev.ferry.codec.Codecs;
import dev.ferry.pickle.ConnectionsNotCarriedException;
import dev.ferry.pickle.PickleCodec;
import dev.ferry.pickle.PyObject;
import dev.ferry.pickle.ResourceSharer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import picocli.CommandLine.ITypeConverter;

/**
 * How the command line turns its text into messages and messages into lines of text.
 *
 * <p>{@code bytes} takes any payload: sent text is its UTF-8 bytes, received payloads print as
 * UTF-8 text. {@code utf8} insists on valid UTF-8 both ways: a peer that sends anything else is
 * sending garbage. {@code pickle} speaks Python's {@code send(obj)}/{@code recv()}: text goes out
 * as a {@code str}, and values print as Python's {@code print()} shows them: a {@code str} as it
 * is, anything else as its {@code repr} ({@link PyRepr}). {@code xmlrpc} speaks what Python's
 * {@code XmlListener}/{@code XmlClient} send, and prints the same way.
 */
sealed interface MessageCodec {
  MessageCodec BYTES = new Bytes();
  MessageCodec UTF8 = new Utf8();
  MessageCodec XMLRPC = new XmlRpc();

  /** The prefix of a payload printed in hexadecimal because it is not valid UTF-8. */
  String HEX_PREFIX = "hex:";

  /** Sends {@code text} as one message. */
  void send(Connection connection, String text) throws IOException;

  /** Receives one message as text for {@code send}: malformed UTF-8 is replaced, not refused. */
  String receiveReply(Connection connection) throws IOException;

  /** Receives one message as text for {@code listen}: payloads that aren't UTF-8 print as hex. */
  default String receiveLine(Connection connection) throws IOException {
    return line(connection.receiveBytes());
  }

  /** One received payload as {@code listen} prints it. */
  String line(byte[] payload) throws IOException;

  /**
   * Receives one message and sends it back: the same bytes, or for pickle the same value. A
   * refused message is answered, then thrown as {@link RefusedMessage}.
   */
  default void echo(Connection connection) throws IOException {
    Reply reply = answer(connection.receiveBytes());
    connection.sendBytes(reply.payload());
    if (reply.refused() != null) throw new RefusedMessage(reply.refused(), null);
  }

  /** What echo sends back for {@code message}; thrown failures drop the client. */
  Reply answer(byte[] message) throws IOException;

  /**
   * Whether {@link #answer} can wait for another process (pickle fetching a carried connection
   * from its sender's resource sharer): then it must not run on an event loop thread.
   */
  default boolean answerMayBlock() {
    return false;
  }

  /** The name on the command line. */
  String cliName();

  /**
   * Python's {@code send(obj)}: messages go out in {@code codec}'s protocol, and echo replies in
   * the protocol of the message they answer (2 at least), so that one server answers Python 2.7
   * and 3.x clients alike.
   */
  static MessageCodec pickle(PickleCodec codec) {
    return new Pickle(codec, ReplyProtocol.AS_RECEIVED, null);
  }

  /** Like {@link #pickle(PickleCodec)}, but echo replies too use {@code codec}'s protocol. */
  static MessageCodec pickleFixed(PickleCodec codec) {
    return new Pickle(codec, ReplyProtocol.CODEC, null);
  }

  /**
   * Echo refused a message but keeps the client: the client got a Python exception as its
   * reply, and the command prints {@code refused message: MESSAGE}.
   */
  final class RefusedMessage extends IOException {
    private static final long serialVersionUID = 1L;

    RefusedMessage(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Echo's reply to one message: {@code refused} is null, or why the message was refused (the
   * payload then carries a Python exception for the client, and echo prints one line).
   */
  record Reply(byte[] payload, String refused) {
    static Reply of(byte[] payload) {
      return new Reply(payload, null);
    }
  }

  /** The protocol of an echo reply: that of the message it answers, or the codec's own. */
  enum ReplyProtocol {
    AS_RECEIVED,
    CODEC
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

  final class Bytes implements MessageCodec {
    private Bytes() {}

    @Override
    public void send(Connection connection, String text) throws IOException {
      connection.sendBytes(text.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String receiveReply(Connection connection) throws IOException {
      return new String(connection.receiveBytes(), StandardCharsets.UTF_8); // replaces malformed
    }

    @Override
    public String line(byte[] payload) {
      return render(payload);
    }

    @Override
    public Reply answer(byte[] message) {
      return Reply.of(message);
    }

    @Override
    public String cliName() {
      return "bytes";
    }
  }

  final class Utf8 implements MessageCodec {
    private Utf8() {}

    @Override
    public void send(Connection connection, String text) throws IOException {
      connection.send(text, Codecs.utf8());
    }

    @Override
    public String receiveReply(Connection connection) throws IOException {
      return connection.receive(Codecs.utf8());
    }

    @Override
    public String line(byte[] payload) throws IOException {
      return Codecs.utf8().decode(ByteBuffer.wrap(payload));
    }

    @Override
    public Reply answer(byte[] message) throws IOException {
      // Valid UTF-8 decodes and encodes back to the same bytes; anything else is refused.
      line(message);
      return Reply.of(message);
    }

    @Override
    public String cliName() {
      return "utf8";
    }
  }

  /**
   * Pickled values. A payload the codec refuses (a global outside its allow-list, a malformed
   * pickle) fails the receive with the codec's own words, which name the global.
   *
   * <p>{@code noConnections} is why connections cannot travel through this echo (a TCP address,
   * no key), or null: echo then answers a message that holds one with a Python
   * {@code RuntimeError} naming the reason and throws {@link RefusedMessage}.
   */
  record Pickle(PickleCodec codec, ReplyProtocol replies, String noConnections)
      implements MessageCodec {
    /** This codec, carrying connections through {@code sharer} (echo on a Unix address). */
    Pickle carrying(ResourceSharer sharer) {
      return new Pickle(PickleCodec.builder().protocol(codec.protocol()).connections(sharer)
          .build(), replies, null);
    }

    /** This codec, refusing messages that hold connections for {@code reason}. */
    Pickle refusingConnections(String reason) {
      return new Pickle(codec, replies, reason);
    }

    @Override
    public void send(Connection connection, String text) throws IOException {
      connection.send(text, codec);
    }

    @Override
    public String receiveReply(Connection connection) throws IOException {
      return printed(connection.receive(codec));
    }

    @Override
    public String line(byte[] payload) throws IOException {
      return printed(codec.loads(payload));
    }

    /** Python's {@code print(value)}: a str as it is, anything else as its repr. */
    static String printed(Object value) {
      return value instanceof String s ? s : PyRepr.of(value);
    }

    @Override
    public boolean answerMayBlock() {
      return codec.carriesConnections();
    }

    @Override
    public Reply answer(byte[] message) throws IOException {
      // Decoded and encoded again, not copied: what comes back is what this codec understood.
      int protocol = replies == ReplyProtocol.CODEC ? codec.protocol() : protocolOf(message);
      Object value;
      try {
        value = codec.loads(message);
      } catch (ConnectionsNotCarriedException e) {
        if (noConnections == null) throw e;
        PickleCodec reply = PickleCodec.builder().protocol(protocol).build();
        return new Reply(reply.dumps(
            PyObject.call("builtins.RuntimeError", "ferry echo: " + noConnections)),
            noConnections);
      }
      // The connections the message carried are this process's copies: the reply shares
      // duplicates of them, so these close once it is encoded.
      Carried carried = Carried.in(value);
      try {
        return Reply.of(codec.withProtocol(protocol).dumps(value));
      } finally {
        carried.close();
      }
    }

    /**
     * The protocol a pickle was written in: its {@code PROTO} opcode, or 2 for protocols 0 and 1,
     * which have none and which Ferry does not write.
     */
    static int protocolOf(byte[] pickle) {
      boolean proto = pickle.length >= 2 && (pickle[0] & 0xff) == 0x80;
      return proto ? Math.max(2, Math.min(5, pickle[1] & 0xff)) : 2;
    }

    @Override
    public String cliName() {
      return "pickle";
    }
  }

  /**
   * XML-RPC values ({@link Codecs#xmlRpc()}). A payload the codec refuses (malformed XML, a DTD,
   * a type XML-RPC lacks) fails the receive with the codec's own words.
   */
  final class XmlRpc implements MessageCodec {
    private static final Codec<Object> CODEC = Codecs.xmlRpc();

    private XmlRpc() {}

    @Override
    public void send(Connection connection, String text) throws IOException {
      connection.send(text, CODEC);
    }

    @Override
    public String receiveReply(Connection connection) throws IOException {
      return Pickle.printed(connection.receive(CODEC));
    }

    @Override
    public String line(byte[] payload) throws IOException {
      return Pickle.printed(CODEC.decode(ByteBuffer.wrap(payload)));
    }

    @Override
    public Reply answer(byte[] message) throws IOException {
      // Decoded and encoded again: the reply is in CPython's own spelling whatever came in.
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      CODEC.encode(CODEC.decode(ByteBuffer.wrap(message)), out);
      return Reply.of(out.toByteArray());
    }

    @Override
    public String cliName() {
      return "xmlrpc";
    }
  }

  final class Converter implements ITypeConverter<MessageCodec> {
    @Override
    public MessageCodec convert(String value) {
      return switch (value) {
        case "bytes" -> BYTES;
        case "utf8" -> UTF8;
        case "pickle" -> pickle(PickleCodec.standard());
        case "xmlrpc" -> XMLRPC;
        default -> throw new BadValueException(
            "unknown codec: " + value + " (expected bytes, utf8, pickle or xmlrpc)");
      };
    }
  }

  final class Names implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return List.of("bytes", "utf8", "pickle", "xmlrpc").iterator();
    }
  }
}
