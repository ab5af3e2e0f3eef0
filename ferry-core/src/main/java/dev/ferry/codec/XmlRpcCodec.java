package dev.ferry.codec;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.util.Base64;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.xml.stream.XMLStreamException;

/**
 * XML-RPC values as CPython's {@code XmlListener} and {@code XmlClient} send them: one UTF-8
 * {@code <params>} fragment holding one {@code <param>}, written byte for byte as
 * {@code xmlrpc.client.dumps((obj,), None, None, None, 1)} writes it (PROTOCOL §1.6). Reading
 * is {@link XmlRpcReader}'s job; see {@link Codecs#xmlRpc()} for the types.
 *
 * <pre>
 * &lt;params&gt;\n&lt;param&gt;\n VALUE &lt;/param&gt;\n&lt;/params&gt;\n
 * VALUE: &lt;value&gt;&lt;int&gt;42&lt;/int&gt;&lt;/value&gt;\n
 *        (None: &lt;value&gt;&lt;nil/&gt;&lt;/value&gt;, with no \n)
 * </pre>
 */
final class XmlRpcCodec implements Codec<Object> {
  static final XmlRpcCodec INSTANCE = new XmlRpcCodec();

  /** Deeper values are refused both ways: decoding recurses, and CPython's dumps would too. */
  static final int MAX_DEPTH = 500;

  private static final BigInteger INT_MIN = BigInteger.valueOf(Integer.MIN_VALUE);
  private static final BigInteger INT_MAX = BigInteger.valueOf(Integer.MAX_VALUE);

  /** CPython writes base64 with {@code base64.encodebytes}: lines of 76 characters, each ended. */
  private static final Base64.Encoder BASE64 =
      Base64.getMimeEncoder(76, new byte[] {'\n'});

  private XmlRpcCodec() {}

  @Override
  public String name() {
    return "xmlrpc";
  }

  @Override
  public void encode(Object value, OutputStream out) throws IOException {
    StringBuilder xml = new StringBuilder("<params>\n<param>\n");
    new Writer(xml).value(value, 0);
    xml.append("</param>\n</params>\n");
    out.write(xml.toString().getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public Object decode(ByteBuffer payload) throws IOException {
    byte[] bytes = new byte[payload.remaining()];
    payload.get(bytes);
    try {
      return new XmlRpcReader(new ByteArrayInputStream(bytes)).document();
    } catch (XMLStreamException e) {
      throw new CodecException("malformed xml-rpc payload: " + XmlRpcReader.describe(e), e);
    }
  }

  /** One value into XML; a writer is used for one message and by one thread. */
  private static final class Writer {
    private final StringBuilder xml;
    /** The lists and maps being written: one met again contains itself. */
    private final Map<Object, Boolean> open = new IdentityHashMap<>();

    Writer(StringBuilder xml) {
      this.xml = xml;
    }

    void value(Object value, int depth) throws CodecException {
      if (depth > MAX_DEPTH) {
        throw new CodecException("xml-rpc value nested deeper than " + MAX_DEPTH);
      }
      if (value == null) {
        xml.append("<value><nil/></value>"); // no newline: CPython's dump_nil writes none
      } else if (value instanceof Boolean b) {
        scalar("boolean", b ? "1" : "0");
      } else if (value instanceof Integer || value instanceof Short || value instanceof Byte
          || value instanceof Long || value instanceof BigInteger) {
        scalar("int", checkedInt(value).toString());
      } else if (value instanceof Double || value instanceof Float) {
        scalar("double", floatRepr(((Number) value).doubleValue()));
      } else if (value instanceof String s) {
        xml.append("<value><string>");
        escape(s);
        xml.append("</string></value>\n");
      } else if (value instanceof byte[] bytes) {
        xml.append("<value><base64>\n").append(BASE64.encodeToString(bytes));
        xml.append(bytes.length == 0 ? "" : "\n").append("</base64></value>\n");
      } else if (value instanceof LocalDateTime dateTime) {
        scalar("dateTime.iso8601", iso8601(dateTime));
      } else if (value instanceof List<?> list) {
        enter(list, "list");
        xml.append("<value><array><data>\n");
        for (Object item : list) value(item, depth + 1);
        xml.append("</data></array></value>\n");
        open.remove(list);
      } else if (value instanceof Map<?, ?> map) {
        struct(map, depth);
      } else {
        throw new CodecException("xml-rpc cannot carry " + value.getClass().getName());
      }
    }

    private void struct(Map<?, ?> map, int depth) throws CodecException {
      enter(map, "map");
      xml.append("<value><struct>\n");
      for (Map.Entry<?, ?> member : map.entrySet()) {
        if (!(member.getKey() instanceof String name)) {
          Object key = member.getKey();
          throw new CodecException("xml-rpc struct key is not a string: " + key
              + (key == null ? "" : " (" + key.getClass().getName() + ")"));
        }
        xml.append("<member>\n<name>");
        escape(name);
        xml.append("</name>\n");
        value(member.getValue(), depth + 1);
        xml.append("</member>\n");
      }
      xml.append("</struct></value>\n");
      open.remove(map);
    }

    private void enter(Object container, String kind) throws CodecException {
      if (open.put(container, Boolean.TRUE) != null) {
        throw new CodecException("xml-rpc cannot carry a " + kind + " that contains itself");
      }
    }

    private void scalar(String type, String text) {
      xml.append("<value><").append(type).append('>').append(text)
          .append("</").append(type).append("></value>\n");
    }

    /**
     * CPython escapes {@code & < >} only. A carriage return is written as a reference too, since
     * every XML parser (CPython's as well) reads a raw one as a line feed.
     */
    private void escape(String s) throws CodecException {
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        switch (c) {
          case '&' -> xml.append("&amp;");
          case '<' -> xml.append("&lt;");
          case '>' -> xml.append("&gt;");
          case '\r' -> xml.append("&#13;");
          default -> {
            if (Character.isHighSurrogate(c) && i + 1 < s.length()
                && Character.isLowSurrogate(s.charAt(i + 1))) {
              xml.append(c).append(s.charAt(++i));
            } else if (isXmlChar(c)) {
              xml.append(c);
            } else {
              throw new CodecException(String.format(Locale.ROOT,
                  "xml cannot carry character U+%04X at index %d", (int) c, i));
            }
          }
        }
      }
    }

    /** XML 1.0's Char production, for one UTF-16 unit that is not part of a surrogate pair. */
    private static boolean isXmlChar(char c) {
      return c == '\t' || c == '\n' || (c >= 0x20 && c < 0xd800) || (c >= 0xe000 && c <= 0xfffd);
    }
  }

  /** XML-RPC's {@code int} is 32 bits: CPython refuses more with the same words. */
  private static Number checkedInt(Object value) throws CodecException {
    if (value instanceof BigInteger big) {
      if (big.compareTo(INT_MIN) < 0 || big.compareTo(INT_MAX) > 0) {
        throw new CodecException("int exceeds xml-rpc limits: " + big);
      }
      return big;
    }
    long n = ((Number) value).longValue();
    if (n < Integer.MIN_VALUE || n > Integer.MAX_VALUE) {
      throw new CodecException("int exceeds xml-rpc limits: " + n);
    }
    return n;
  }

  /** CPython's {@code %Y%m%dT%H:%M:%S}: the year in four digits, no fraction, no zone. */
  private static String iso8601(LocalDateTime t) throws CodecException {
    if (t.getYear() < 1 || t.getYear() > 9999) {
      throw new CodecException("xml-rpc datetime year must be 1 to 9999: " + t.getYear());
    }
    return String.format(Locale.ROOT, "%04d%02d%02dT%02d:%02d:%02d", t.getYear(),
        t.getMonthValue(), t.getDayOfMonth(), t.getHour(), t.getMinute(), t.getSecond());
  }

  /**
   * Python's float repr, which CPython writes in {@code <double>}: the shortest digits that read
   * back the same, positional from 1e-4 up to 1e16, else {@code 1e+20}; {@code inf}, {@code nan}.
   */
  static String floatRepr(double d) {
    if (Double.isNaN(d)) return "nan";
    if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
    if (d == 0) return 1 / d < 0 ? "-0.0" : "0.0";
    String sign = d < 0 ? "-" : "";
    BigDecimal decimal = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
    String digits = decimal.unscaledValue().toString();
    int exponent = digits.length() - 1 - decimal.scale();
    if (exponent >= -4 && exponent < 16) {
      String plain = decimal.toPlainString();
      return sign + (plain.contains(".") ? plain : plain + ".0");
    }
    String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
    String exp = String.format(Locale.ROOT, "%02d", Math.abs(exponent));
    return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + exp;
  }
}
