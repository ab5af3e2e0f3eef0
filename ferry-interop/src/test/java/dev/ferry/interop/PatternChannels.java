package dev.ferry.interop;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.zip.CRC32;

/**
 * Channels over {@link Values#pattern(int)} extended to any length: byte i of a message of size n
 * is (i + n) % 251. They stream, so a 2 GiB message never sits in the heap, and they keep a CRC-32
 * (Python: {@code zlib.crc32}) of what passed.
 */
final class PatternChannels {
  private PatternChannels() {}

  /** 251 * 4096 bytes plus one extra cycle, so a chunk can start at any phase. */
  private static final int CHUNK = 251 * 4096;

  private static byte[] cycles() {
    byte[] bytes = new byte[CHUNK + 251];
    for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) (i % 251);
    return bytes;
  }

  /** Produces the {@code size} bytes of the pattern, then end of stream. */
  static final class Source implements ReadableByteChannel {
    private final byte[] cycles = cycles();
    private final long size;
    private final CRC32 crc = new CRC32();
    private long position;
    private boolean open = true;

    Source(long size) {
      this.size = size;
    }

    @Override
    public int read(ByteBuffer dst) {
      if (position == size) return -1;
      int phase = (int) ((position + size) % 251);
      int n = (int) Math.min(Math.min(dst.remaining(), CHUNK), size - position);
      dst.put(cycles, phase, n);
      crc.update(cycles, phase, n);
      position += n;
      return n;
    }

    /** How many bytes were read. */
    long position() {
      return position;
    }

    /** CRC-32 of the bytes read so far. */
    long crc() {
      return crc.getValue();
    }

    @Override
    public boolean isOpen() {
      return open;
    }

    @Override
    public void close() {
      open = false;
    }
  }

  /** Checks that what is written is the pattern of a message of {@code size} bytes. */
  static final class Check implements WritableByteChannel {
    private final byte[] cycles = cycles();
    private final byte[] chunk = new byte[CHUNK];
    private final long size;
    private final CRC32 crc = new CRC32();
    private long position;
    private long firstMismatch = -1;
    private boolean open = true;

    Check(long size) {
      this.size = size;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      int written = 0;
      while (src.hasRemaining()) {
        int n = Math.min(src.remaining(), CHUNK);
        src.get(chunk, 0, n);
        crc.update(chunk, 0, n);
        int phase = (int) ((position + size) % 251);
        int at = java.util.Arrays.mismatch(chunk, 0, n, cycles, phase, phase + n);
        if (at >= 0 && firstMismatch < 0) firstMismatch = position + at;
        position += n;
        written += n;
      }
      return written;
    }

    long position() {
      return position;
    }

    long crc() {
      return crc.getValue();
    }

    /** The offset of the first byte that was not the pattern's, or -1. */
    long firstMismatch() {
      return firstMismatch;
    }

    @Override
    public boolean isOpen() {
      return open;
    }

    @Override
    public void close() {
      open = false;
    }
  }
}
