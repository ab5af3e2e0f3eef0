package dev.ferry;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ferry.internal.lane.LaneRegion;
import dev.ferry.internal.lane.Ring;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Coverage-guided fuzzing of the lane's ring reader against a hostile writer: the fuzzer sets the
 * writer's words (tail, bells, closed) and the data area between reads of every size. The only
 * declared outcome besides bytes is {@link FramingException}; anything else (an index out of
 * bounds, a negative count, a runtime exception, a read that does not advance) is a finding.
 *
 * <p>Fuzzing for real: {@code JAZZER_FUZZ=1 ./mvnw -o -pl ferry-core test -Dtest=LaneRingFuzzTest}.
 */
class LaneRingFuzzTest {
  private static final int CAPACITY = 4096;
  private static final int RING = 128; // ring 0's control block, LANE.md section 3

  @FuzzTest(maxDuration = "6s")
  void ringReaderOnlyEndsInBytesOrFramingErrors(FuzzedDataProvider data) {
    ByteBuffer region = ByteBuffer.allocateDirect((int) LaneRegion.size(CAPACITY))
        .order(ByteOrder.LITTLE_ENDIAN);
    LaneRegion.initialize(region, CAPACITY);
    Ring reader = LaneRegion.ring(region, 0, CAPACITY);
    reader.arm(true);
    long consumed = 0;
    for (int step = 0; step < 64 && data.remainingBytes() > 0; step++) {
      switch (data.consumeInt(0, 3)) {
        case 0 -> region.putLong(RING, data.consumeLong());
        case 1 -> region.putLong(RING + 8, data.consumeLong());
        case 2 -> region.putInt(RING + 16, data.consumeInt());
        default -> {
          int at = data.consumeInt(0, CAPACITY - 1);
          byte[] bytes = data.consumeBytes(64);
          for (int i = 0; i < bytes.length; i++) region.put(RING + 256 + (at + i) % CAPACITY, bytes[i]);
        }
      }
      ByteBuffer dst = ByteBuffer.allocate(data.consumeInt(0, 2 * CAPACITY));
      try {
        long available = reader.available();
        if (available < 0 || available > CAPACITY) throw new AssertionError("available " + available);
        int n = reader.read(dst);
        if (n < 0 || n > dst.capacity() || n != dst.position()) throw new AssertionError("read " + n);
        consumed += n;
        if (reader.consumed() != consumed) throw new AssertionError("head " + reader.consumed());
        reader.writerClosed();
      } catch (FramingException hostile) {
        return; // the connection would close here
      }
    }
  }
}
