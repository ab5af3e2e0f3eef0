package dev.ferry.pickle;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ferry.codec.CodecException;
import java.nio.ByteBuffer;

/**
 * Coverage-guided fuzzing of the unpickler with the standard (safe) settings: any bytes must
 * decode to a value or fail with a {@link CodecException} that carries no runtime exception as
 * its cause. A hang, a stack overflow, an OutOfMemoryError or a runtime exception is a finding.
 *
 * <p>The default build replays the seeds in {@code UnpicklerFuzzTestInputs}; fuzzing for real:
 * {@code JAZZER_FUZZ=1 ./mvnw -o -pl ferry-core,ferry-pickle test -Dtest=UnpicklerFuzzTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Djazzer.max_duration=10m}.
 */
class UnpicklerFuzzTest {
  private static final PickleCodec CODEC = PickleCodec.standard();

  @FuzzTest(maxDuration = "6s")
  void decodesOrRefusesWithACodecException(byte[] pickle) {
    try {
      CODEC.decode(ByteBuffer.wrap(pickle).asReadOnlyBuffer());
    } catch (CodecException refused) {
      if (refused.getCause() instanceof RuntimeException) {
        throw new AssertionError("a runtime exception escaped the checks", refused.getCause());
      }
    } catch (java.io.IOException other) {
      throw new AssertionError("undeclared failure: " + other, other);
    }
  }
}
