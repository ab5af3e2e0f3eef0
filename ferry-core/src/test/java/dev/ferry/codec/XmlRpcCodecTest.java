package dev.ferry.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.Pythons;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class XmlRpcCodecTest {
  private static final Codec<Object> CODEC = Codecs.xmlRpc();

  /**
   * Every type XML-RPC carries, as CPython's XmlClient sends it; 2.7 and 3.x spell it alike.
   * Dicts have one key each, since 2.7's dicts have no order.
   */
  private static final String PYTHON_DUMPS = String.join("\n",
      "import binascii, datetime, sys",
      "try:",
      "    import xmlrpc.client as xmlrpclib",
      "except ImportError:",
      "    import xmlrpclib",
      "value = [1, -2147483648, 2147483647, 2.5, 1e20, 1e-05, -0.0, float('inf'),",
      "         u'h\\u00e5 <&> \"\\' \\U0001f600', u'', True, False, None,",
      "         {'raw': xmlrpclib.Binary(b'\\x00\\xff' * 40)}, {'empty': xmlrpclib.Binary(b'')},",
      "         datetime.datetime(2024, 2, 29, 23, 59, 58, 999999), [], {}, [[None]]]",
      "payload = xmlrpclib.dumps((value,), None, None, None, 1)",
      "if not isinstance(payload, bytes):",
      "    payload = payload.encode('utf-8')",
      "sys.stdout.write(binascii.hexlify(payload).decode('ascii'))",
      "");

  private static List<Object> javaValue() {
    List<Object> value = new ArrayList<>(List.of(1, Integer.MIN_VALUE, Integer.MAX_VALUE, 2.5,
        1e20, 1e-05, -0.0, Double.POSITIVE_INFINITY, "hå <&> \"' \ud83d\ude00", "", true, false));
    value.add(null);
    value.add(Map.of("raw", HexFormat.of().parseHex("00ff".repeat(40))));
    value.add(Map.of("empty", new byte[0]));
    value.add(LocalDateTime.of(2024, 2, 29, 23, 59, 58));
    value.add(List.of());
    value.add(Map.of());
    value.add(List.of(Collections.singletonList(null)));
    return value;
  }

  @ParameterizedTest(name = "python {0}")
  @ValueSource(strings = {"2.7", "3.13"})
  void writesEveryTypeByteForByteAsCPythonDumpsIt(String version) throws Exception {
    byte[] python = pythonDumps(version);
    byte[] java = encode(javaValue());
    assertEquals(new String(python, StandardCharsets.UTF_8),
        new String(java, StandardCharsets.UTF_8));
    assertArrayEquals(python, java);
  }

  @ParameterizedTest(name = "python {0}")
  @ValueSource(strings = {"2.7", "3.13"})
  void readsEveryTypeCPythonDumps(String version) throws Exception {
    Object decoded = CODEC.decode(ByteBuffer.wrap(pythonDumps(version)));
    assertEquals(comparable(javaValue()), comparable(decoded));
  }

  private static byte[] pythonDumps(String version) throws Exception {
    Path python = Pythons.require(version);
    Process p = new ProcessBuilder(python.toString(), "-c", PYTHON_DUMPS)
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    p.getOutputStream().close();
    String hex = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "python " + version + " did not exit");
    assertEquals(0, p.exitValue(), "python " + version + " exit code");
    return HexFormat.of().parseHex(hex);
  }

  /** Byte arrays as hex, so that equals compares contents. */
  private static Object comparable(Object value) {
    if (value instanceof byte[] bytes) return "bytes:" + HexFormat.of().formatHex(bytes);
    if (value instanceof List<?> list) {
      List<Object> out = new ArrayList<>();
      for (Object item : list) out.add(comparable(item));
      return out;
    }
    if (value instanceof Map<?, ?> map) {
      Map<Object, Object> out = new LinkedHashMap<>();
      map.forEach((k, v) -> out.put(k, comparable(v)));
      return out;
    }
    return value;
  }

  private static byte[] encode(Object value) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CODEC.encode(value, out);
    return out.toByteArray();
  }

  private static Object decode(String xml) throws IOException {
    return CODEC.decode(ByteBuffer.wrap(xml.getBytes(StandardCharsets.UTF_8)));
  }

  private static String message(Object value) {
    return assertThrows(CodecException.class, () -> encode(value)).getMessage();
  }

  private static String decodeError(String xml) {
    return assertThrows(CodecException.class, () -> decode(xml)).getMessage();
  }

  @Test
  void writesOneValueAsABareParamsFragment() throws IOException {
    assertEquals("<params>\n<param>\n<value><int>42</int></value>\n</param>\n</params>\n",
        new String(encode(42), StandardCharsets.UTF_8));
    assertEquals("<params>\n<param>\n<value><nil/></value></param>\n</params>\n",
        new String(encode(null), StandardCharsets.UTF_8));
  }

  @Test
  void writesYearsBelowAThousandInFourDigitsAsCPython3Does() throws IOException {
    // CPython 3.13: dumps((datetime(5, 1, 2, 3, 4, 5),)) holds 00050102T03:04:05.
    String xml = new String(encode(LocalDateTime.of(5, 1, 2, 3, 4, 5)), StandardCharsets.UTF_8);
    assertTrue(xml.contains("<dateTime.iso8601>00050102T03:04:05</dateTime.iso8601>"), xml);
    assertEquals("xml-rpc datetime year must be 1 to 9999: 10000",
        message(LocalDateTime.of(10000, 1, 1, 0, 0)));
  }

  @Test
  void keepsCarriageReturnsThatAParserWouldTurnIntoLineFeeds() throws IOException {
    byte[] xml = encode("a\r\nb\rc");
    assertTrue(new String(xml, StandardCharsets.UTF_8).contains("a&#13;\nb&#13;c"));
    assertEquals("a\r\nb\rc", CODEC.decode(ByteBuffer.wrap(xml)));
    assertEquals("a\nb\nc", decode("<params><param><value>a\r\nb\rc</value></param></params>"));
  }

  @Test
  void writesSmallerJavaNumbersAsXmlRpcIntAndDouble() throws IOException {
    List<Object> value = List.of((short) 7, (byte) -1, 5L, BigInteger.TEN, 0.5f);
    assertEquals(List.of(7, -1, 5, 10, 0.5), decode(new String(encode(value),
        StandardCharsets.UTF_8)));
  }

  @Test
  void refusesValuesXmlRpcCannotCarryNamingThem() {
    assertEquals("xml-rpc cannot carry java.util.ImmutableCollections$Set12", message(Set.of(1)));
    assertEquals("int exceeds xml-rpc limits: 2147483648", message(2147483648L));
    assertEquals("int exceeds xml-rpc limits: -18446744073709551616",
        message(BigInteger.TWO.pow(64).negate()));
    Map<Object, Object> numbered = new LinkedHashMap<>();
    numbered.put(1, "one");
    assertEquals("xml-rpc struct key is not a string: 1 (java.lang.Integer)", message(numbered));
    assertEquals("xml cannot carry character U+0000 at index 2", message("ab\0"));
    assertEquals("xml cannot carry character U+D800 at index 0", message("\ud800x"));
    assertEquals("xml-rpc cannot carry java.time.Instant",
        message(List.of(Instant.EPOCH)));
  }

  @Test
  void refusesContainersThatContainThemselves() {
    List<Object> list = new ArrayList<>();
    list.add(list);
    assertEquals("xml-rpc cannot carry a list that contains itself", message(list));
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("me", List.of(map));
    assertEquals("xml-rpc cannot carry a map that contains itself", message(map));
  }

  @Test
  void refusesNestingDeeperThanTheLimitBothWays() {
    Object deep = null;
    for (int i = 0; i <= XmlRpcCodec.MAX_DEPTH; i++) {
      deep = Collections.singletonList(deep);
    }
    assertEquals("xml-rpc value nested deeper than 500", message(deep));
    String xml = "<params><param><value>"
        + "<array><data><value>".repeat(XmlRpcCodec.MAX_DEPTH + 1)
        + "</value></data></array>".repeat(XmlRpcCodec.MAX_DEPTH + 1)
        + "</value></param></params>";
    assertEquals("xml-rpc value nested deeper than 500", decodeError(xml));
  }

  @Test
  void refusesADtdSoNoEntityIsEverResolved() {
    String external = "<?xml version='1.0'?>"
        + "<!DOCTYPE p [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
        + "<params><param><value><string>&x;</string></value></param></params>";
    assertEquals("xml-rpc payload has a dtd: refused", decodeError(external));
    String laughs = "<!DOCTYPE p [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;'>]>"
        + "<params><param><value>&b;</value></param></params>";
    assertEquals("xml-rpc payload has a dtd: refused", decodeError(laughs));
    String undeclared = "<params><param><value>&x;</value></param></params>";
    assertTrue(decodeError(undeclared).startsWith("malformed xml-rpc payload: "),
        decodeError(undeclared));
  }

  @Test
  void readsTheWrappersAndSpellingsCPythonLoadsAccepts() throws IOException {
    String one = "<param><value><i8>4294967296</i8></value></param>";
    assertEquals(4294967296L, decode("<?xml version='1.0'?>\n<methodResponse><params>" + one
        + "</params></methodResponse>"));
    assertEquals(4294967296L, decode("<methodCall><methodName>f</methodName><params>" + one
        + "</params></methodCall>"));
    assertEquals("  bare text ", decode("<params><param><value>  bare text </value></param>"
        + "</params>"));
    assertNull(decode("<params><param><value><ex:nil/></value></param></params>"));
    assertEquals(List.of(1, "x", 1.5), decode("<params><param><value><array><data>\n"
        + "<value> <i4> 1 </i4> </value><value><string><![CDATA[x]]></string></value>"
        + "<value><double>1.5</double></value></data></array></value></param></params>"));
  }

  @Test
  void refusesPayloadsCPythonsXmlListenerWouldNotReturn() {
    assertEquals("expected one xml-rpc param, got 2", decodeError(
        "<params><param><value>a</value></param><param><value>b</value></param></params>"));
    assertEquals("expected one xml-rpc param, got 0", decodeError("<params></params>"));
    assertEquals("xml-rpc fault: {faultCode=1, faultString=no}", decodeError(
        "<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int>"
        + "</value></member><member><name>faultString</name><value>no</value></member></struct>"
        + "</value></fault></methodResponse>"));
    assertEquals("unsupported xml-rpc type: <object>",
        decodeError("<params><param><value><object/></value></param></params>"));
    assertEquals("expected xml-rpc <params>, got <html>", decodeError("<html/>"));
    assertEquals("bad xml-rpc boolean: yes",
        decodeError("<params><param><value><boolean>yes</boolean></value></param></params>"));
    assertEquals("bad xml-rpc double: 1d",
        decodeError("<params><param><value><double>1d</double></value></param></params>"));
    assertEquals("bad xml-rpc int: 1.5",
        decodeError("<params><param><value><int>1.5</int></value></param></params>"));
    assertEquals("bad xml-rpc datetime: 2024-02-30",
        decodeError("<params><param><value><dateTime.iso8601>2024-02-30</dateTime.iso8601>"
            + "</value></param></params>"));
    assertTrue(decodeError("<params><param><value>").startsWith("malformed xml-rpc payload: "));
  }

  @Test
  void readsBase64LinesAndSpecialDoubles() throws IOException {
    Object value = decode("<params><param><value><array><data>"
        + "<value><base64>\nAAH+\n/w==\n</base64></value>"
        + "<value><double>-inf</double></value><value><double>nan</double></value>"
        + "</data></array></value></param></params>");
    List<?> items = (List<?>) value;
    assertArrayEquals(new byte[] {0, 1, (byte) 0xfe, (byte) 0xff}, (byte[]) items.get(0));
    assertEquals(Double.NEGATIVE_INFINITY, items.get(1));
    assertTrue(((Double) items.get(2)).isNaN());
  }
}
