package dev.ferry.bench.jmh;

import dev.ferry.pickle.PickleCodec;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The pickle codec on a small dict, the same one the CPython side of {@code ferry bench} uses:
 * {@code {"id": 42, "name": "ferry", "ok": True, "score": 0.5, "tags": ["a", "b"]}}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PickleBenchmark {
  private final PickleCodec codec = PickleCodec.standard();
  private final Map<String, Object> dict = new LinkedHashMap<>();
  private final byte[] pickled;

  public PickleBenchmark() {
    dict.put("id", 42L);
    dict.put("name", "ferry");
    dict.put("ok", true);
    dict.put("score", 0.5);
    dict.put("tags", List.of("a", "b"));
    try {
      pickled = codec.dumps(dict);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Benchmark
  public Object encodeDecode() throws IOException {
    return codec.loads(codec.dumps(dict));
  }

  @Benchmark
  public byte[] encode() throws IOException {
    return codec.dumps(dict);
  }

  @Benchmark
  public Object decode() throws IOException {
    return codec.loads(pickled);
  }
}
