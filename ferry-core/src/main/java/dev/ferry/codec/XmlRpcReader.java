package dev.ferry.codec;

import java.io.InputStream;
import java.math.BigInteger;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * Reads one XML-RPC value the way CPython's {@code xmlrpc.client.loads} does for
 * {@code XmlListener}: a {@code <params>} fragment (or a {@code <methodResponse>} or
 * {@code <methodCall>} around it) with exactly one {@code <param>}.
 *
 * <p>The parser is the JDK's StAX reader with DTDs and external entities off, and a payload that
 * carries a DTD at all is refused: only XML's five predefined entities and character references
 * are ever expanded. A reader serves one payload on one thread.
 */
final class XmlRpcReader {
  /** What CPython writes for a datetime: {@code 20240102T03:04:05}. */
  private static final Pattern ISO8601 =
      Pattern.compile("(\\d{4})(\\d\\d)(\\d\\d)T(\\d\\d):(\\d\\d):(\\d\\d)");

  /** What Python's {@code float()} reads, less its underscores; inf and nan are handled apart. */
  private static final Pattern DECIMAL =
      Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

  private final XMLStreamReader xml;

  XmlRpcReader(InputStream in) throws XMLStreamException {
    this.xml = factory().createXMLStreamReader(in);
  }

  /** The JDK's property for the deepest element a parser accepts (java.xml's module summary). */
  private static final String MAX_ELEMENT_DEPTH = "jdk.xml.maxElementDepth";

  /** A new factory per payload: the JDK's factories are not documented as thread safe. */
  private static XMLInputFactory factory() {
    XMLInputFactory factory = XMLInputFactory.newDefaultFactory();
    factory.setProperty(XMLInputFactory.SUPPORT_DTD, false);
    factory.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
    factory.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
    // CPython drops a namespace prefix (ex:nil is nil); prefixes are stripped by hand below.
    factory.setProperty(XMLInputFactory.IS_NAMESPACE_AWARE, false);
    factory.setProperty(XMLInputFactory.IS_COALESCING, true);
    // JDK 24+ caps element depth at 100 by default: 33 nested lists. Three elements a level
    // (value, array, data; or value, struct, member) under params and param: the codec's own
    // limit, with its own message, must come first, on every JDK.
    factory.setProperty(MAX_ELEMENT_DEPTH, 3 * (XmlRpcCodec.MAX_DEPTH + 2) + 3);
    return factory;
  }

  /** The first line of a parser's message, which otherwise runs to several. */
  static String describe(XMLStreamException e) {
    String message = e.getNestedException() != null && e.getNestedException().getMessage() != null
        ? e.getNestedException().getMessage() : String.valueOf(e.getMessage());
    int end = message.lastIndexOf("Message: ");
    if (end >= 0) message = message.substring(end + "Message: ".length());
    return message.strip().lines().findFirst().orElse("");
  }

  /** The one value of the payload. */
  Object document() throws XMLStreamException, CodecException {
    try {
      String root = firstElement();
      Object value = switch (root) {
        case "params" -> params();
        case "methodResponse" -> wrapped("methodResponse");
        case "methodCall" -> {
          expectStart("methodName");
          xml.getElementText(); // XmlListener drops the name as well
          yield wrapped("methodCall");
        }
        default -> throw new CodecException("expected xml-rpc <params>, got <" + root + ">");
      };
      while (xml.hasNext()) xml.next(); // the parser refuses anything but comments after the root
      return value;
    } finally {
      xml.close();
    }
  }

  private String firstElement() throws XMLStreamException, CodecException {
    while (xml.hasNext()) {
      int event = xml.next();
      if (event == XMLStreamConstants.DTD) {
        throw new CodecException("xml-rpc payload has a dtd: refused");
      }
      if (event == XMLStreamConstants.START_ELEMENT) return name();
    }
    throw new CodecException("xml-rpc payload has no element");
  }

  private Object wrapped(String root) throws XMLStreamException, CodecException {
    String child = nextStart();
    if (child.equals("fault")) throw fault();
    if (!child.equals("params")) {
      throw new CodecException("expected xml-rpc <params> in <" + root + ">, got <" + child + ">");
    }
    Object value = params();
    expectEnd(root);
    return value;
  }

  /** A {@code <fault>} is an answer to a call, which these connections never make. */
  private CodecException fault() throws XMLStreamException, CodecException {
    expectStart("value");
    Object detail = value(0);
    return new CodecException("xml-rpc fault: " + detail);
  }

  /** At {@code <params>}: exactly one {@code <param>}, as CPython's {@code (obj,) = ...} needs. */
  private Object params() throws XMLStreamException, CodecException {
    List<Object> values = new ArrayList<>();
    while (xml.nextTag() == XMLStreamConstants.START_ELEMENT) {
      if (!name().equals("param")) {
        throw new CodecException("expected xml-rpc <param>, got <" + name() + ">");
      }
      expectStart("value");
      values.add(value(0));
      expectEnd("param");
    }
    if (values.size() != 1) {
      throw new CodecException("expected one xml-rpc param, got " + values.size());
    }
    return values.get(0);
  }

  /**
   * At {@code <value>}: a typed child, or bare text, which is a string. Returns at
   * {@code </value>}.
   */
  private Object value(int depth) throws XMLStreamException, CodecException {
    if (depth > XmlRpcCodec.MAX_DEPTH) {
      throw new CodecException("xml-rpc value nested deeper than " + XmlRpcCodec.MAX_DEPTH);
    }
    StringBuilder text = new StringBuilder();
    while (true) {
      int event = xml.next();
      switch (event) {
        case XMLStreamConstants.CHARACTERS, XMLStreamConstants.CDATA,
            XMLStreamConstants.SPACE -> text.append(xml.getText());
        case XMLStreamConstants.START_ELEMENT -> {
          if (!text.toString().isBlank()) {
            throw new CodecException("xml-rpc value has text beside <" + name() + ">");
          }
          Object value = typed(name(), depth);
          expectEnd("value");
          return value;
        }
        case XMLStreamConstants.END_ELEMENT -> {
          return text.toString();
        }
        default -> {
          // comments and processing instructions carry nothing
        }
      }
    }
  }

  /** At a type's start tag; returns at its end tag. */
  private Object typed(String type, int depth) throws XMLStreamException, CodecException {
    return switch (type) {
      case "int", "i1", "i2", "i4", "i8", "biginteger" -> integer(xml.getElementText());
      case "boolean" -> bool(xml.getElementText());
      case "double", "float" -> real(xml.getElementText());
      case "string" -> xml.getElementText();
      case "nil" -> {
        if (!xml.getElementText().isEmpty()) throw new CodecException("xml-rpc nil is not empty");
        yield null;
      }
      case "base64" -> base64(xml.getElementText());
      case "dateTime.iso8601" -> dateTime(xml.getElementText());
      case "array" -> array(depth);
      case "struct" -> struct(depth);
      default -> throw new CodecException("unsupported xml-rpc type: <" + type + ">");
    };
  }

  private List<Object> array(int depth) throws XMLStreamException, CodecException {
    expectStart("data");
    List<Object> items = new ArrayList<>();
    while (xml.nextTag() == XMLStreamConstants.START_ELEMENT) {
      if (!name().equals("value")) {
        throw new CodecException("expected xml-rpc <value> in <data>, got <" + name() + ">");
      }
      items.add(value(depth + 1));
    }
    expectEnd("array");
    return items;
  }

  private Map<String, Object> struct(int depth) throws XMLStreamException, CodecException {
    Map<String, Object> members = new LinkedHashMap<>();
    while (xml.nextTag() == XMLStreamConstants.START_ELEMENT) {
      if (!name().equals("member")) {
        throw new CodecException("expected xml-rpc <member> in <struct>, got <" + name() + ">");
      }
      expectStart("name");
      String key = xml.getElementText();
      expectStart("value");
      members.put(key, value(depth + 1)); // a repeated name: the last wins, as in a dict
      expectEnd("member");
    }
    return members;
  }

  private static Number integer(String text) throws CodecException {
    BigInteger n;
    try {
      n = new BigInteger(text.strip());
    } catch (NumberFormatException e) {
      throw new CodecException("bad xml-rpc int: " + text, e);
    }
    if (n.bitLength() < 32) return n.intValue();
    if (n.bitLength() < 64) return n.longValue();
    return n;
  }

  private static Boolean bool(String text) throws CodecException {
    return switch (text) {
      case "0" -> Boolean.FALSE;
      case "1" -> Boolean.TRUE;
      default -> throw new CodecException("bad xml-rpc boolean: " + text);
    };
  }

  private static Double real(String text) throws CodecException {
    String s = text.strip();
    switch (s.toLowerCase(Locale.ROOT)) {
      case "inf", "+inf", "infinity", "+infinity" -> {
        return Double.POSITIVE_INFINITY;
      }
      case "-inf", "-infinity" -> {
        return Double.NEGATIVE_INFINITY;
      }
      case "nan", "+nan", "-nan" -> {
        return Double.NaN;
      }
      default -> {
        // Java would also read "1d", "0x1p3" and "Infinity": Python reads none of them.
        if (!DECIMAL.matcher(s).matches()) throw new CodecException("bad xml-rpc double: " + text);
        return Double.parseDouble(s);
      }
    }
  }

  private static byte[] base64(String text) throws CodecException {
    try {
      return Base64.getMimeDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      throw new CodecException("bad xml-rpc base64: " + e.getMessage(), e);
    }
  }

  private static LocalDateTime dateTime(String text) throws CodecException {
    Matcher m = ISO8601.matcher(text.strip());
    if (m.matches()) {
      try {
        return LocalDateTime.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
            Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4)),
            Integer.parseInt(m.group(5)), Integer.parseInt(m.group(6)));
      } catch (DateTimeException e) {
        // falls through to the error below
      }
    }
    throw new CodecException("bad xml-rpc datetime: " + text);
  }

  private String nextStart() throws XMLStreamException, CodecException {
    if (xml.nextTag() != XMLStreamConstants.START_ELEMENT) {
      throw new CodecException("unexpected xml-rpc </" + name() + ">");
    }
    return name();
  }

  private void expectStart(String expected) throws XMLStreamException, CodecException {
    String got = nextStart();
    if (!got.equals(expected)) {
      throw new CodecException("expected xml-rpc <" + expected + ">, got <" + got + ">");
    }
  }

  private void expectEnd(String expected) throws XMLStreamException, CodecException {
    if (xml.nextTag() != XMLStreamConstants.END_ELEMENT) {
      throw new CodecException("expected xml-rpc </" + expected + ">, got <" + name() + ">");
    }
  }

  /** The element's name without a namespace prefix, as CPython's unmarshaller sees it. */
  private String name() {
    String name = xml.getLocalName();
    return name.substring(name.lastIndexOf(':') + 1);
  }
}
