package dev.ferry.pickle.internal;

import dev.ferry.codec.CodecException;
import dev.ferry.pickle.PyArray;
import dev.ferry.pickle.PyComplex;
import dev.ferry.pickle.PyCounter;
import dev.ferry.pickle.PyDefaultDict;
import dev.ferry.pickle.PyDeque;
import dev.ferry.pickle.PyFraction;
import dev.ferry.pickle.PyOrderedDict;
import dev.ferry.pickle.PyRange;
import dev.ferry.pickle.PySlice;
import dev.ferry.pickle.PyTuple;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * How the pickler writes the standard library's value types: as a call of a Python class on
 * plain arguments ({@code REDUCE}), then list items ({@code APPENDS}) and dict items
 * ({@code SETITEMS}), which is what CPython's {@code __reduce__} of these types gives.
 */
final class Reductions {
  private Reductions() {}

  /** Python: {@code module.name(*args)}, then {@code extend(listItems)} and dict items. */
  record Reduction(String module, String name, PyTuple args, List<?> listItems,
      Map<?, ?> dictItems) {
    static Reduction call(String module, String name, Object... args) {
      return new Reduction(module, name, PyTuple.of(args), List.of(), Map.of());
    }
  }

  /** The reduction of {@code value}, or null if it is not one of these types. */
  static Reduction of(Object value) throws CodecException {
    if (value instanceof PyOrderedDict map) {
      return new Reduction("collections", "OrderedDict", PyTuple.empty(), List.of(), map);
    } else if (value instanceof PyDefaultDict map) {
      Object factory = map.factory().orElse(null);
      return new Reduction("collections", "defaultdict", PyTuple.of(factory), List.of(), map);
    } else if (value instanceof PyCounter counter) {
      return Reduction.call("collections", "Counter", new LinkedHashMap<>(counter));
    } else if (value instanceof PyDeque deque) {
      PyTuple args = deque.maxLength().isPresent()
          ? PyTuple.of(PyTuple.empty(), deque.maxLength().getAsInt()) : PyTuple.empty();
      return new Reduction("collections", "deque", args, deque, Map.of());
    } else if (value instanceof PyFraction f) {
      return Reduction.call("fractions", "Fraction", f.toString());
    } else if (value instanceof PyArray a) {
      return Reduction.call("array", "array", a.typecode(), new ArrayList<>(a.items()));
    } else if (value instanceof PyRange r) {
      return Reduction.call("builtins", "range", r.start(), r.stop(), r.step());
    } else if (value instanceof PySlice s) {
      return Reduction.call("builtins", "slice", s.start(), s.stop(), s.step());
    } else if (value instanceof PyComplex c) {
      return Reduction.call("builtins", "complex", c.real(), c.imag());
    } else if (value instanceof BigDecimal d) {
      return Reduction.call("decimal", "Decimal", d.toString());
    } else if (value instanceof UUID uuid) {
      return Reduction.call("uuid", "UUID", uuid.toString());
    }
    return temporal(value);
  }

  private static Reduction temporal(Object value) throws CodecException {
    if (value instanceof LocalDate d) {
      checkYear(d.getYear());
      return Reduction.call("datetime", "date", d.getYear(), d.getMonthValue(), d.getDayOfMonth());
    } else if (value instanceof LocalTime t) {
      return new Reduction("datetime", "time", timeArgs(t, null), List.of(), Map.of());
    } else if (value instanceof OffsetTime t) {
      return new Reduction("datetime", "time", timeArgs(t.toLocalTime(), t.getOffset()),
          List.of(), Map.of());
    } else if (value instanceof LocalDateTime dt) {
      return dateTime(dt, null);
    } else if (value instanceof OffsetDateTime dt) {
      return dateTime(dt.toLocalDateTime(), dt.getOffset());
    } else if (value instanceof ZonedDateTime dt) {
      return dt.getZone() instanceof ZoneOffset ? dateTime(dt.toLocalDateTime(), dt.getOffset())
          : zoned(dt);
    } else if (value instanceof Instant i) {
      return dateTime(i.atOffset(ZoneOffset.UTC).toLocalDateTime(), ZoneOffset.UTC);
    } else if (value instanceof Duration d) {
      return new Reduction("datetime", "timedelta", timedeltaArgs(d), List.of(), Map.of());
    } else if (value instanceof ZoneOffset z) {
      return Reduction.call("datetime", "timezone", Duration.ofSeconds(z.getTotalSeconds()));
    } else if (value instanceof ZoneId zone) {
      return Reduction.call("zoneinfo", "ZoneInfo", zone.getId());
    }
    return null;
  }

  private static void checkYear(int year) throws CodecException {
    if (year < 1 || year > 9999) {
      throw new CodecException("year out of python range 1..9999: " + year);
    }
  }

  private static PyTuple timeArgs(LocalTime t, ZoneOffset offset) {
    List<Object> args = new ArrayList<>(List.of(t.getHour(), t.getMinute(), t.getSecond(),
        t.getNano() / 1000));
    if (offset != null) args.add(offset);
    return new PyTuple(args);
  }

  private static Reduction dateTime(LocalDateTime dt, ZoneOffset offset) throws CodecException {
    checkYear(dt.getYear());
    List<Object> args = new ArrayList<>(List.of(dt.getYear(), dt.getMonthValue(),
        dt.getDayOfMonth(), dt.getHour(), dt.getMinute(), dt.getSecond(), dt.getNano() / 1000));
    if (offset != null) args.add(offset);
    return new Reduction("datetime", "datetime", new PyTuple(args), List.of(), Map.of());
  }

  /**
   * A datetime in a {@code zoneinfo.ZoneInfo} zone (Python 3.9+), in CPython's own state form,
   * the only one that carries {@code fold}: 1 for the second of two equal local times.
   */
  private static Reduction zoned(ZonedDateTime dt) throws CodecException {
    checkYear(dt.getYear());
    boolean fold = !dt.equals(dt.withEarlierOffsetAtOverlap());
    int micros = dt.getNano() / 1000;
    byte[] state = {(byte) (dt.getYear() >> 8), (byte) dt.getYear(),
        (byte) (dt.getMonthValue() | (fold ? 0x80 : 0)), (byte) dt.getDayOfMonth(),
        (byte) dt.getHour(), (byte) dt.getMinute(), (byte) dt.getSecond(),
        (byte) (micros >> 16), (byte) (micros >> 8), (byte) micros};
    return Reduction.call("datetime", "datetime", state, dt.getZone());
  }

  private static PyTuple timedeltaArgs(Duration d) throws CodecException {
    long seconds = d.getSeconds();
    long days = Math.floorDiv(seconds, 86400);
    if (Math.abs(days) > 999_999_999L) {
      throw new CodecException("duration out of python range: " + d);
    }
    return PyTuple.of(days, Math.floorMod(seconds, 86400), d.getNano() / 1000);
  }
}
