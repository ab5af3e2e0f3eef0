package dev.ferry.pickle.internal;

import static dev.ferry.pickle.internal.Opcodes.FRAME;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;

/**
 * The byte side of {@link Pickler}: opcodes gathered in a buffer and, at protocol 4 and later,
 * cut into frames of about 64 KiB, with large strings and bytes written outside frames, as
 * CPython's {@code _Pickler} does.
 */
abstract class PickleOutput {
  static final int FRAME_TARGET = 64 * 1024;

  final OutputStream out;
  final int protocol;
  byte[] buf = new byte[256];
  int count;

  PickleOutput(OutputStream out, int protocol) {
    this.out = out;
    this.protocol = protocol;
  }

  final void ensure(int n) {
    if (count + n > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, count + n));
  }

  final void op(int opcode) {
    ensure(1);
    buf[count++] = (byte) opcode;
  }

  final void op(int opcode, int u8) {
    ensure(2);
    buf[count++] = (byte) opcode;
    buf[count++] = (byte) u8;
  }

  final void le(long value, int bytes) {
    ensure(bytes);
    for (int i = 0; i < bytes; i++) buf[count++] = (byte) (value >>> (8 * i));
  }

  final void raw(byte[] bytes) {
    ensure(bytes.length);
    System.arraycopy(bytes, 0, buf, count, bytes.length);
    count += bytes.length;
  }

  /** Ends the current frame if it is big enough, or always when {@code force}. */
  final void commit(boolean force) throws IOException {
    if (count == 0 || (!force && count < FRAME_TARGET)) return;
    if (protocol >= 4 && count >= 4) {
      byte[] header = new byte[9];
      header[0] = (byte) FRAME;
      for (int i = 0; i < 8; i++) header[1 + i] = (byte) ((long) count >>> (8 * i));
      out.write(header);
    }
    out.write(buf, 0, count);
    count = 0;
    if (buf.length > 4 * FRAME_TARGET) buf = new byte[256];
  }

  /** An opcode with a length and a payload; a large one goes outside frames, as in CPython. */
  final void counted(int shortOp, int op4, int op8, byte[] payload) throws IOException {
    int n = payload.length;
    boolean large = protocol >= 4 && n >= FRAME_TARGET;
    if (large) commit(true);
    if (shortOp >= 0 && n < 256) {
      op(shortOp, n);
    } else if (op8 >= 0 && (n > 0xffffffffL || op4 < 0)) {
      op(op8);
      le(n, 8);
    } else {
      op(op4);
      le(n, 4);
    }
    if (large) {
      out.write(buf, 0, count);
      count = 0;
      out.write(payload);
    } else {
      raw(payload);
    }
  }
}
