package dev.ferry.bench.jmh;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The JMH benchmarks' own setup and operations, once each: a broken setup (the framing pipe case
 * once set its connections to themselves, null) otherwise only shows as a stack trace in a JMH
 * run, and its figures go missing from the table.
 */
class JmhBenchmarksTest {
  @ParameterizedTest
  @ValueSource(strings = {"pipe", "tcp"})
  void everyOperationMovesOneMessage(String transport) throws Exception {
    FramingBenchmark b = new FramingBenchmark();
    b.size = 64;
    b.transport = transport;
    b.open();
    try {
      assertEquals(64, b.sendAndReceiveIntoBuffer());
      assertEquals(64, b.sendAndReceiveIntoArray());
      assertEquals(64, b.sendAndReceiveBytes().length);
    } finally {
      b.close();
    }
  }

  @org.junit.jupiter.api.Test
  void aHandshakeRunsOnBothSides() throws Exception {
    HandshakeBenchmark b = new HandshakeBenchmark();
    b.open();
    try {
      b.bothSides();
    } finally {
      b.close();
    }
  }

  @org.junit.jupiter.api.Test
  void picklingRoundTripsTheSmallDict() throws Exception {
    PickleBenchmark b = new PickleBenchmark();
    assertEquals(b.decode(), b.encodeDecode());
    org.junit.jupiter.api.Assertions.assertTrue(b.encode().length > 0);
  }

  @ParameterizedTest
  @ValueSource(strings = {"array", "direct"})
  void aLargeMessageCrossesFromEitherKindOfMemory(String memory) throws Exception {
    LargeArrayBenchmark b = new LargeArrayBenchmark();
    b.size = 1 << 20;
    b.memory = memory;
    b.open();
    try {
      assertEquals(1, b.sendAndReceive());
      assertEquals(1, b.sendAndReceive());
    } finally {
      b.close();
    }
  }
}
