package dev.ferry.internal.auth;

import static dev.ferry.internal.auth.Hmacs.jdkMac;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ferry.AuthenticationException;
import dev.ferry.MessageTooLargeException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class HandshakeTest {
  private static final byte[] KEY = ascii("ferry test key");
  private static final byte[] OTHER_KEY = ascii("not the ferry test key");
  private static final byte[] CHALLENGE = ascii("#CHALLENGE#");
  private static final byte[] WELCOME = ascii("#WELCOME#");
  private static final byte[] FAILURE = ascii("#FAILURE#");
  private static final String UNSUPPORTED =
      "unsupported message length, missing digest prefix, or unsupported digest: message=";

  private final AtomicInteger threads = new AtomicInteger();
  private final ExecutorService executor =
      Executors.newCachedThreadPool(
          task -> new Thread(task, "handshake-test-side-" + threads.incrementAndGet()));
  private final ChannelPair pair = new ChannelPair();

  @AfterEach
  void stopThreads() throws InterruptedException {
    executor.shutdownNow();
    assertTrue(executor.awaitTermination(10, TimeUnit.SECONDS), "a handshake thread is stuck");
  }

  @Test
  void authenticatesModernPeersInSixFrames() throws Exception {
    Future<?> server = run(pair.server, channel -> Handshake.serverSide(channel, KEY));
    Future<?> client = run(pair.client, channel -> Handshake.clientSide(channel, KEY));

    await(server);
    await(client);
    // CPython 3.12+ sizes: challenge 59, {sha256} reply 40, verdict 9, in each direction.
    assertEquals(List.of(59, 9, 40), lengths(pair.server.sent));
    assertEquals(List.of(40, 59, 9), lengths(pair.client.sent));
    assertArrayEquals(WELCOME, pair.server.sent.get(1));
    assertArrayEquals(WELCOME, pair.client.sent.get(2));
  }

  @Test
  void capsEveryReadAt256Bytes() throws Exception {
    Future<?> server = run(pair.server, channel -> Handshake.serverSide(channel, KEY));
    Future<?> client = run(pair.client, channel -> Handshake.clientSide(channel, KEY));

    await(server);
    await(client);
    assertEquals(List.of(256, 256, 256), pair.server.receiveLimits);
    assertEquals(List.of(256, 256, 256), pair.client.receiveLimits);
  }

  @Test
  void oversizedReplyFailsWithBadMessageLengthAndNoVerdict() throws Exception {
    Future<?> server = run(pair.server, channel -> Handshake.deliverChallenge(channel, KEY));
    pair.client.receiveMessage(256);
    pair.client.sendMessage(new byte[257]);

    MessageTooLargeException e = failure(server, MessageTooLargeException.class);
    assertEquals(257, e.length());
    // CPython's recv_bytes(256) raises before the verdict: no #FAILURE# is sent.
    assertEquals(1, pair.server.sent.size());
  }

  @Test
  void challengesWithSha256AndFortyFreshRandomBytes() throws Exception {
    byte[] first = challengeFromServer();
    byte[] second = challengeFromServer();

    assertEquals(59, first.length);
    assertTrue(startsWith(first, ascii("#CHALLENGE#{sha256}")));
    assertTrue(startsWith(second, ascii("#CHALLENGE#{sha256}")));
    assertFalse(Arrays.equals(first, second), "two challenges carried the same nonce");
  }

  @Test
  void answersLegacyServerWithRawMd5() throws Exception {
    Future<?> client = run(pair.client, channel -> Handshake.clientSide(channel, KEY));
    HandshakeChannel legacyServer = pair.server;

    byte[] legacyNonce = ascii("twenty-random-bytes!");
    legacyServer.sendMessage(concat(CHALLENGE, legacyNonce));
    assertArrayEquals(jdkMac("md5", KEY, legacyNonce), legacyServer.receiveMessage(256));
    legacyServer.sendMessage(WELCOME);
    // A legacy server MACs whatever follows #CHALLENGE#, {sha256} included, with MD5.
    byte[] body = bodyOf(legacyServer.receiveMessage(256));
    legacyServer.sendMessage(jdkMac("md5", KEY, body));
    assertArrayEquals(WELCOME, legacyServer.receiveMessage(256));
    await(client);
  }

  @Test
  void welcomesClientWithLegacyDigest() throws Exception {
    Future<?> server = run(pair.server, channel -> Handshake.serverSide(channel, KEY));
    HandshakeChannel legacyClient = pair.client;

    byte[] body = bodyOf(legacyClient.receiveMessage(256));
    legacyClient.sendMessage(jdkMac("md5", KEY, body));
    assertArrayEquals(WELCOME, legacyClient.receiveMessage(256));
    byte[] legacyNonce = ascii("20 bytes from 2.7...");
    legacyClient.sendMessage(concat(CHALLENGE, legacyNonce));
    assertArrayEquals(jdkMac("md5", KEY, legacyNonce), legacyClient.receiveMessage(256));
    legacyClient.sendMessage(WELCOME);
    await(server);
  }

  @ParameterizedTest
  @ValueSource(strings = {"md5", "sha256", "sha384", "sha3_256", "sha3_384"})
  void acceptsReplyInEveryAllowedDigest(String digest) throws Exception {
    Future<?> server = run(pair.server, channel -> Handshake.deliverChallenge(channel, KEY));

    byte[] body = bodyOf(pair.client.receiveMessage(256));
    pair.client.sendMessage(concat(prefix(digest), jdkMac(digest, KEY, body)));
    assertArrayEquals(WELCOME, pair.client.receiveMessage(256));
    await(server);
  }

  @ParameterizedTest
  @ValueSource(strings = {"md5", "sha256", "sha384", "sha3_256", "sha3_384"})
  void answersInTheDigestTheChallengeNames(String digest) throws Exception {
    byte[] body = concat(prefix(digest), ascii("forty bytes of a challenge from a server"));
    ScriptedChannel channel = new ScriptedChannel(concat(CHALLENGE, body), WELCOME);

    Handshake.answerChallenge(channel, KEY);
    // The MAC covers the whole body, {name} prefix included.
    assertArrayEquals(concat(prefix(digest), jdkMac(digest, KEY, body)), channel.sent.get(0));
  }

  @Test
  void refusesSha512WithFailure() throws Exception {
    Future<?> server = run(pair.server, channel -> Handshake.deliverChallenge(channel, KEY));

    byte[] body = bodyOf(pair.client.receiveMessage(256));
    pair.client.sendMessage(concat(prefix("sha512"), jdkMac("sha512", KEY, body)));
    assertArrayEquals(FAILURE, pair.client.receiveMessage(256));
    AuthenticationException e = failure(server, AuthenticationException.class);
    // The repr quotes with " when the random MAC holds a ' and no ": either is CPython's.
    String expected = "\\Q" + UNSUPPORTED + "\\Eb['\"]\\{sha512}.*";
    assertTrue(e.getMessage().matches(expected), e.getMessage());
  }

  @Test
  void wrongKeyIsRejectedOnBothSides() throws Exception {
    Future<?> server = run(pair.server, channel -> Handshake.serverSide(channel, KEY));
    Future<?> client = run(pair.client, channel -> Handshake.clientSide(channel, OTHER_KEY));

    assertEquals(
        "digest received was wrong", failure(server, AuthenticationException.class).getMessage());
    assertEquals(
        "digest sent was rejected", failure(client, AuthenticationException.class).getMessage());
    assertArrayEquals(FAILURE, pair.server.sent.get(pair.server.sent.size() - 1));
  }

  @Test
  void authenticatesWithEmptyKey() throws Exception {
    Future<?> server = run(pair.server, channel -> Handshake.serverSide(channel, new byte[0]));
    Future<?> client = run(pair.client, channel -> Handshake.clientSide(channel, new byte[0]));

    await(server);
    await(client);
  }

  @Test
  void emptyKeyDoesNotMatchNonEmptyKey() throws Exception {
    Future<?> server = run(pair.server, channel -> Handshake.serverSide(channel, new byte[0]));
    Future<?> client = run(pair.client, channel -> Handshake.clientSide(channel, KEY));

    assertEquals(
        "digest received was wrong", failure(server, AuthenticationException.class).getMessage());
    assertEquals(
        "digest sent was rejected", failure(client, AuthenticationException.class).getMessage());
  }

  @Test
  void sendsFailureBeforeThrowing() {
    ScriptedChannel channel = new ScriptedChannel(ascii("something bogus"));

    AuthenticationException e =
        assertThrows(AuthenticationException.class, () -> Handshake.deliverChallenge(channel, KEY));
    assertEquals(UNSUPPORTED + "b'something bogus'", e.getMessage());
    assertEquals(2, channel.sent.size());
    assertArrayEquals(FAILURE, channel.sent.get(1));
  }

  @Test
  void keepsTheAuthenticationErrorWhenTheFailureCannotBeSent() {
    IOException brokenPipe = new IOException("broken pipe");
    HandshakeChannel channel =
        new HandshakeChannel() {
          private int sends;

          @Override
          public void sendMessage(byte[] message) throws IOException {
            if (++sends == 2) {
              throw brokenPipe;
            }
          }

          @Override
          public byte[] receiveMessage(int maxLength) {
            return new byte[16];
          }
        };

    AuthenticationException e =
        assertThrows(AuthenticationException.class, () -> Handshake.deliverChallenge(channel, KEY));
    assertEquals("digest received was wrong", e.getMessage());
    assertEquals(List.of(brokenPipe), List.of(e.getSuppressed()));
  }

  @Test
  void rejectsLegacyLengthReplyWithWrongMacLength() {
    ScriptedChannel channel = new ScriptedChannel(new byte[20]);

    AuthenticationException e =
        assertThrows(AuthenticationException.class, () -> Handshake.deliverChallenge(channel, KEY));
    assertEquals("expected 'md5' of length 16 got 20", e.getMessage());
    assertArrayEquals(FAILURE, channel.sent.get(1));
  }

  @Test
  void rejectsPrefixedReplyWithWrongMacLength() {
    ScriptedChannel channel = new ScriptedChannel(concat(prefix("sha256"), new byte[31]));

    AuthenticationException e =
        assertThrows(AuthenticationException.class, () -> Handshake.deliverChallenge(channel, KEY));
    assertEquals("expected 'sha256' of length 32 got 31", e.getMessage());
    assertArrayEquals(FAILURE, channel.sent.get(1));
  }

  @Test
  void rejectsCorrectLengthReplyWithWrongMac() {
    ScriptedChannel channel = new ScriptedChannel(concat(prefix("md5"), new byte[16]));

    AuthenticationException e =
        assertThrows(AuthenticationException.class, () -> Handshake.deliverChallenge(channel, KEY));
    assertEquals("digest received was wrong", e.getMessage());
    assertArrayEquals(FAILURE, channel.sent.get(1));
  }

  @Test
  void refusesChallengeShorterThanTwentyBytes() {
    ScriptedChannel channel = new ScriptedChannel(concat(CHALLENGE, new byte[16]));

    AuthenticationException e =
        assertThrows(AuthenticationException.class, () -> Handshake.answerChallenge(channel, KEY));
    assertEquals("challenge too short: 16 bytes", e.getMessage());
    assertEquals(List.of(), channel.sent);
  }

  @Test
  void refusesChallengeWithEmptyBody() {
    ScriptedChannel channel = new ScriptedChannel(CHALLENGE, ascii("bogus"));

    AuthenticationException e =
        assertThrows(AuthenticationException.class, () -> Handshake.answerChallenge(channel, KEY));
    assertEquals("challenge too short: 0 bytes", e.getMessage());
  }

  @Test
  void refusesFirstMessageThatIsNoChallenge() {
    ScriptedChannel channel = new ScriptedChannel(ascii("hello"));

    AuthenticationException e =
        assertThrows(AuthenticationException.class, () -> Handshake.answerChallenge(channel, KEY));
    assertEquals("Protocol error, expected challenge: message=b'hello'", e.getMessage());
    assertEquals(List.of(), channel.sent);
  }

  @Test
  void refusesUnprefixedChallengeOfUnusualLengthAndSendsNothing() {
    byte[] body = new byte[32];
    Arrays.fill(body, (byte) 'y');
    ScriptedChannel channel = new ScriptedChannel(concat(CHALLENGE, body));

    AuthenticationException e =
        assertThrows(AuthenticationException.class, () -> Handshake.answerChallenge(channel, KEY));
    assertEquals(UNSUPPORTED + "b'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy'", e.getMessage());
    assertEquals(List.of(), channel.sent);
  }

  @Test
  void refusesChallengeNamingNoDigestAndSendsNothing() {
    byte[] body = concat(prefix("sha4"), new byte[40]);
    ScriptedChannel channel = new ScriptedChannel(concat(CHALLENGE, body));

    AuthenticationException e =
        assertThrows(AuthenticationException.class, () -> Handshake.answerChallenge(channel, KEY));
    assertTrue(e.getMessage().startsWith(UNSUPPORTED + "b'{sha4}\\x00"), e.getMessage());
    assertEquals(List.of(), channel.sent);
  }

  @Test
  void refusesVerdictOtherThanWelcome() {
    byte[] body = concat(prefix("sha256"), new byte[40]);
    ScriptedChannel channel = new ScriptedChannel(concat(CHALLENGE, body), ascii("#WELCOME#!"));

    AuthenticationException e =
        assertThrows(AuthenticationException.class, () -> Handshake.answerChallenge(channel, KEY));
    assertEquals("digest sent was rejected", e.getMessage());
    assertEquals(1, channel.sent.size());
  }

  @Test
  void answersTwentyByteChallengeWithRawMd5() throws IOException {
    // CPython's ChallengeResponseTest body; unprefixed and 20 bytes long means a legacy server.
    byte[] body = ascii("is-twenty-bytes-long");
    ScriptedChannel channel = new ScriptedChannel(concat(CHALLENGE, body), WELCOME);

    Handshake.answerChallenge(channel, KEY);
    assertArrayEquals(jdkMac("md5", KEY, body), channel.sent.get(0));
    assertEquals(List.of(256, 256), channel.receiveLimits);
  }

  // ---------------------------------------------------------------------------------------------

  private interface Side {
    void run(HandshakeChannel channel) throws IOException;
  }

  /** Runs one side on its own thread; its end closes when it finishes, as a socket would. */
  private Future<?> run(ChannelPair.End end, Side side) {
    return executor.submit(
        () -> {
          try (end) {
            side.run(end);
          }
          return null;
        });
  }

  private static void await(Future<?> side) throws Exception {
    try {
      side.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("handshake side failed", e.getCause());
    }
  }

  private static <T extends Throwable> T failure(Future<?> side, Class<T> type)
      throws InterruptedException, TimeoutException {
    try {
      side.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return assertInstanceOf(type, e.getCause());
    }
    return fail("expected " + type.getSimpleName() + " but the side succeeded");
  }

  private byte[] challengeFromServer() throws Exception {
    ScriptedChannel channel = new ScriptedChannel();
    assertThrows(IOException.class, () -> Handshake.deliverChallenge(channel, KEY));
    assertNotNull(channel.sent.get(0));
    return channel.sent.get(0);
  }

  private static byte[] bodyOf(byte[] challenge) {
    assertTrue(startsWith(challenge, CHALLENGE), "not a challenge");
    return Arrays.copyOfRange(challenge, CHALLENGE.length, challenge.length);
  }

  private static byte[] prefix(String digest) {
    return ascii("{" + digest + "}");
  }

  private static List<Integer> lengths(List<byte[]> messages) {
    return messages.stream().map(m -> m.length).toList();
  }

  private static boolean startsWith(byte[] bytes, byte[] prefix) {
    return bytes.length >= prefix.length
        && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] joined = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, joined, a.length, b.length);
    return joined;
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
