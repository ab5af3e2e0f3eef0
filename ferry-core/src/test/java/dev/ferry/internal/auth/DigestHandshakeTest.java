package dev.ferry.internal.auth;

import static dev.ferry.internal.auth.HandshakeTest.ascii;
import static dev.ferry.internal.auth.HandshakeTest.concat;
import static dev.ferry.internal.auth.Hmacs.jdkMac;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.AuthenticationException;
import dev.ferry.ConnectionOptions;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 14 part 3: every digest a challenge may name that the JDK has, and seed 001's unprefixed
 * SHA-256 variant ({@code HMAC_DIGEST_NAME='sha256'}: 20-byte challenges, raw 32-byte answers).
 */
class DigestHandshakeTest {
  private static final byte[] KEY = ascii("ferry test key");
  private static final byte[] CHALLENGE = ascii("#CHALLENGE#");
  private static final byte[] WELCOME = ascii("#WELCOME#");
  private static final byte[] FAILURE = ascii("#FAILURE#");
  /** A seed 001 challenge body: 20 bytes, no prefix. */
  private static final byte[] SEED_NONCE = ascii("seed-001-20-bytes...");

  @ParameterizedTest
  @ValueSource(strings = {"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha512_224",
      "sha512_256", "sha3_224", "sha3_256", "sha3_384", "sha3_512"})
  void answersAChallengeNamingAnyDigestTheJdkHas(String digest) throws IOException {
    byte[] body = concat(ascii("{" + digest + "}"), new byte[40]);
    ScriptedChannel channel = new ScriptedChannel(concat(CHALLENGE, body), WELCOME);

    Handshake.answerChallenge(channel, KEY);
    assertArrayEquals(concat(ascii("{" + digest + "}"), jdkMac(digest, KEY, body)),
        channel.sent.get(0));
  }

  @ParameterizedTest
  @ValueSource(strings = {"blake2b", "blake2s", "shake_128", "shake_256", "sm3", "ripemd160"})
  void refusesAChallengeNamingADigestTheJdkLacksNamingIt(String digest) {
    byte[] body = concat(ascii("{" + digest + "}"), new byte[40]);
    ScriptedChannel channel = new ScriptedChannel(concat(CHALLENGE, body));

    AuthenticationException e =
        assertThrows(AuthenticationException.class, () -> Handshake.answerChallenge(channel, KEY));
    assertEquals("digest not available in this java runtime: " + digest, e.getMessage());
    assertEquals(List.of(), channel.sent);
  }

  @Test
  void listenerWelcomesASeed001ClientAndAnswersItInSha256() {
    ServerHandshake server = new ServerHandshake(KEY);
    byte[] body = bodyOf(server.start());
    ServerHandshake.Step welcome = server.onMessage(jdkMac("sha256", KEY, body));
    assertNull(welcome.failure());
    assertArrayEquals(WELCOME, welcome.replies().get(0));

    ServerHandshake.Step answer = server.onMessage(concat(CHALLENGE, SEED_NONCE));
    assertNull(answer.failure());
    assertArrayEquals(jdkMac("sha256", KEY, SEED_NONCE), answer.replies().get(0));
    assertNull(server.onMessage(WELCOME).failure());
    assertTrue(server.isDone());
  }

  @Test
  void listenerStillAnswersAnMd5ClientInMd5WhateverItsDigestOption() {
    ServerHandshake server = new ServerHandshake(KEY, "sha256");
    byte[] body = bodyOf(server.start());
    assertNull(server.onMessage(jdkMac("md5", KEY, body)).failure());
    ServerHandshake.Step answer = server.onMessage(concat(CHALLENGE, SEED_NONCE));
    assertArrayEquals(jdkMac("md5", KEY, SEED_NONCE), answer.replies().get(0));
  }

  @Test
  void listenerRefusesARawSha256AnswerWithTheWrongKey() {
    ServerHandshake server = new ServerHandshake(KEY);
    byte[] body = bodyOf(server.start());
    ServerHandshake.Step step = server.onMessage(jdkMac("sha256", ascii("other key"), body));
    assertEquals("digest received was wrong", step.failure().getMessage());
    assertArrayEquals(FAILURE, step.replies().get(0));
  }

  @Test
  void clientAnswersAnUnprefixedChallengeInItsDigestOption() {
    ClientHandshake client = new ClientHandshake(KEY, "sha256");
    ServerHandshake.Step answer = client.onMessage(concat(CHALLENGE, SEED_NONCE));
    assertArrayEquals(jdkMac("sha256", KEY, SEED_NONCE), answer.replies().get(0));

    byte[] body = bodyOf(client.onMessage(WELCOME).replies().get(0));
    // Seed 001's answer_challenge MACs all of the body, {sha256} included, and sends it raw.
    ServerHandshake.Step verdict = client.onMessage(jdkMac("sha256", KEY, body));
    assertNull(verdict.failure());
    assertArrayEquals(WELCOME, verdict.replies().get(0));
    assertTrue(client.isDone());
  }

  @Test
  void clientAnswersAnUnprefixedChallengeInMd5ByDefaultAsCpython() {
    ClientHandshake client = new ClientHandshake(KEY);
    ServerHandshake.Step answer = client.onMessage(concat(CHALLENGE, SEED_NONCE));
    assertArrayEquals(jdkMac("md5", KEY, SEED_NONCE), answer.replies().get(0));
  }

  @Test
  void rawAnswerInTheDigestOptionIsAcceptedToo() throws IOException {
    byte[] message = concat(ascii("{sha256}"), new byte[40]);
    assertEquals(new Handshake.Answered(HmacDigest.SHA512, true),
        Handshake.verify(KEY, message, jdkMac("sha512", KEY, message), HmacDigest.SHA512));
    AuthenticationException e = assertThrows(AuthenticationException.class,
        () -> Handshake.verify(KEY, message, jdkMac("sha512", KEY, message), HmacDigest.MD5));
    assertTrue(e.getMessage().startsWith("unsupported message length"), e.getMessage());
  }

  @Test
  void connectionOptionsNameTheUnprefixedDigestAndRefuseOnesTheJdkLacks() {
    assertEquals("md5", ConnectionOptions.defaults().unprefixedDigest());
    ConnectionOptions sha = ConnectionOptions.builder().unprefixedDigest("sha256").build();
    assertEquals("sha256", sha.unprefixedDigest());
    assertEquals("sha256", sha.toBuilder().build().unprefixedDigest());
    assertTrue(sha.toString().contains("unprefixedDigest=sha256"), sha.toString());
    assertEquals("digest not available in this java runtime: blake2b",
        assertThrows(IllegalArgumentException.class,
            () -> ConnectionOptions.builder().unprefixedDigest("blake2b")).getMessage());
    assertEquals("unknown digest: SHA256",
        assertThrows(IllegalArgumentException.class,
            () -> ConnectionOptions.builder().unprefixedDigest("SHA256")).getMessage());
  }

  private static byte[] bodyOf(byte[] challenge) {
    return Arrays.copyOfRange(challenge, CHALLENGE.length, challenge.length);
  }
}
