package dev.ferry.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ferry.internal.framing.MessageOutput;
import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CodecsTest {

  record Point(int x, int y) implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  record Secret(String value) implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  private static <T> ByteBuffer encode(Codec<T> codec, T value) throws IOException {
    MessageOutput out = new MessageOutput();
    codec.encode(value, out);
    ByteBuffer frame = out.toFrame();
    return frame.position(4).slice();
  }

  @Test
  void utf8RoundTripsAndRefusesMalformedText() throws IOException {
    assertEquals("hallå ✓", Codecs.utf8().decode(encode(Codecs.utf8(), "hallå ✓")));
    CodecException e = assertThrows(CodecException.class,
        () -> Codecs.utf8().decode(ByteBuffer.wrap(new byte[] {(byte) 0xff})));
    assertEquals("message is not valid utf-8: Input length = 1", e.getMessage());
  }

  @Test
  void javaSerializationDecodesAllowedClasses() throws IOException {
    Codec<Point> codec = Codecs.javaSerialization(Point.class, Set.of(Point.class));
    assertEquals(new Point(1, 2), codec.decode(encode(codec, new Point(1, 2))));
  }

  @Test
  void javaSerializationRefusesOtherClassesByName() throws IOException {
    Codec<Secret> writer = Codecs.javaSerialization(Secret.class, Set.of(Secret.class));
    Codec<Point> reader = Codecs.javaSerialization(Point.class, Set.of(Point.class));
    CodecException e = assertThrows(CodecException.class,
        () -> reader.decode(encode(writer, new Secret("s"))));
    assertEquals("class not allowed: dev.ferry.codec.CodecsTest$Secret", e.getMessage());

    @SuppressWarnings({"unchecked", "rawtypes"})
    Codec<ArrayList> lists = Codecs.javaSerialization(ArrayList.class, Set.of(ArrayList.class));
    ArrayList<Object> smuggler = new ArrayList<>(List.of(new Secret("inside")));
    CodecException nested = assertThrows(CodecException.class,
        () -> lists.decode(encode(lists, smuggler)));
    assertEquals("class not allowed: dev.ferry.codec.CodecsTest$Secret", nested.getMessage());
  }
}
