package dev.ferry.internal.async;

import dev.ferry.RawReader;
import dev.ferry.async.AsyncRawReader;
import dev.ferry.async.LineTooLongException;
import dev.ferry.internal.raw.RawReadEnd;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The implementation of {@link AsyncRawReader}: a raw pipe's read end on one event loop. The
 * reads wait in a queue; the loop reads from the socket (through its scratch buffer) only while
 * the head read needs more than is buffered, and each read takes its bytes from the front of
 * {@code buffered}. Everything but the closed flag belongs to the loop thread.
 */
public final class AsyncRawReadEnd extends AsyncRawEnd implements AsyncRawReader {

  private enum Kind { SOME, EXACT, LINE }

  /** A pending read: {@code size} is the most (SOME), the count (EXACT) or the limit (LINE). */
  private record Read(Kind kind, int size, CompletableFuture<byte[]> future) {}

  private final RawReadEnd reader;

  // Loop thread only.
  private final ArrayDeque<Read> reads = new ArrayDeque<>();
  /** Bytes read and not yet taken, from position 0 to the limit (read mode). */
  private ByteBuffer buffered = ByteBuffer.allocate(0);
  private boolean ended;
  /** The selector reported the socket readable (or hung up) since the last read. */
  private boolean reported;
  /** junixsocket cancelled the key on hang-up: what is left is all there will be. */
  private boolean hungUp;

  private AsyncRawReadEnd(RawReadEnd end, EventLoop loop) {
    super(end, loop);
    this.reader = end;
  }

  public static AsyncRawReadEnd open(RawReader reader, LoopGroup group) {
    Objects.requireNonNull(reader, "reader");
    RawReadEnd end = (RawReadEnd) reader;
    EventLoop loop = group.next(end.channel().provider());
    AsyncRawReadEnd async = new AsyncRawReadEnd(end, loop);
    async.start();
    return async;
  }

  @Override
  void registered() {
    serve();
  }

  @Override
  public CompletableFuture<byte[]> readSome(int max) {
    if (max < 1) throw new IllegalArgumentException("max < 1: " + max);
    return enqueue(Kind.SOME, max);
  }

  @Override
  public CompletableFuture<byte[]> readExactly(int n) {
    if (n < 0) throw new IllegalArgumentException("n < 0: " + n);
    return enqueue(Kind.EXACT, n);
  }

  @Override
  public CompletableFuture<byte[]> readLine(int limit) {
    if (limit < 1) throw new IllegalArgumentException("limit < 1: " + limit);
    return enqueue(Kind.LINE, limit);
  }

  private CompletableFuture<byte[]> enqueue(Kind kind, int size) {
    CompletableFuture<byte[]> future = new CompletableFuture<>();
    Read read = new Read(kind, size, future);
    loop.execute(() -> {
      if (closed) {
        future.completeExceptionally(closedException());
        return;
      }
      reads.add(read);
      serve();
    });
    return future;
  }

  // ---------------------------------------------------------------------------------------------
  // Loop thread

  @Override
  public void ready(SelectionKey k) {
    // A cancelled key is a hang-up: the reads that follow return the rest, then nothing.
    if (!k.isValid()) hungUp = true;
    reported = true;
    serve();
  }

  /** Completes what the buffered bytes allow, reading more while the head read needs it. */
  private void serve() {
    while (!closed && !reads.isEmpty()) {
      Read head = reads.peek();
      if (head.future().isDone()) {
        reads.poll(); // cancelled or completed from outside before it had its bytes
        continue;
      }
      try {
        if (complete(head)) {
          reads.poll();
          continue;
        }
        if (!fill()) break;
      } catch (IOException e) {
        closeNow(e);
        return;
      }
    }
    updateInterest();
  }

  /** Tries to complete {@code read} from the buffered bytes; false if it needs more. */
  private boolean complete(Read read) {
    int available = buffered.remaining();
    switch (read.kind()) {
      case SOME -> {
        if (available == 0 && !ended) return false;
        deliver(read, Math.min(available, read.size()));
      }
      case EXACT -> {
        if (available >= read.size()) {
          deliver(read, read.size());
        } else if (ended) {
          buffered.position(buffered.limit());
          read.future().completeExceptionally(new EOFException("stream ended after " + available
              + " of " + read.size() + " bytes"));
        } else {
          return false;
        }
      }
      case LINE -> {
        int newline = indexOfNewline(Math.min(available, read.size()));
        if (newline >= 0) {
          deliver(read, newline + 1);
        } else if (available >= read.size()) {
          read.future().completeExceptionally(new LineTooLongException("line longer than limit "
              + read.size() + " bytes"));
        } else if (ended) {
          deliver(read, available);
        } else {
          return false;
        }
      }
    }
    return true;
  }

  private int indexOfNewline(int within) {
    int start = buffered.position();
    for (int i = 0; i < within; i++) {
      if (buffered.get(start + i) == '\n') return i;
    }
    return -1;
  }

  /**
   * Takes {@code n} bytes for {@code read}; if the future was completed from outside meanwhile
   * (a cancel racing with this thread), the bytes go back for the next read.
   */
  private void deliver(Read read, int n) {
    int start = buffered.position();
    byte[] bytes = Arrays.copyOfRange(buffered.array(), buffered.arrayOffset() + start,
        buffered.arrayOffset() + start + n);
    buffered.position(start + n);
    if (!read.future().complete(bytes)) buffered.position(start);
  }

  /** Reads what the socket has; false if it had nothing yet (wait for readiness). */
  private boolean fill() throws IOException {
    if (ended) return false;
    ByteBuffer scratch = loop.scratch();
    scratch.clear();
    EventLoop.clearInterrupt();
    int n = reader.channel().read(scratch);
    boolean endOfStream = n < 0 || n == 0 && (reported || hungUp);
    reported = false;
    // Reported readable yet nothing to read is the end: junixsocket's non-blocking read returns
    // 0 there, not -1.
    if (n == 0 && !endOfStream) return false;
    if (endOfStream) {
      ended = true;
      return true;
    }
    scratch.flip();
    append(scratch);
    return true;
  }

  private void append(ByteBuffer bytes) {
    if (!buffered.hasRemaining()) buffered.clear().limit(0);
    if (buffered.capacity() - buffered.limit() < bytes.remaining()) {
      ByteBuffer grown = ByteBuffer.allocate(Math.max(buffered.remaining() + bytes.remaining(),
          Math.min(2 * buffered.capacity(), buffered.remaining() + 2 * EventLoop.SCRATCH_SIZE)));
      grown.put(buffered).flip();
      buffered = grown;
    }
    int pos = buffered.position();
    buffered.position(buffered.limit()).limit(buffered.limit() + bytes.remaining());
    buffered.put(bytes).position(pos);
  }

  private void updateInterest() {
    interest(!closed && !ended && !reads.isEmpty() ? SelectionKey.OP_READ : 0);
  }

  // ---------------------------------------------------------------------------------------------
  // Closing

  @Override
  void failPending(IOException cause) {
    Read read;
    while ((read = reads.poll()) != null) read.future().completeExceptionally(cause);
    buffered = ByteBuffer.allocate(0);
  }

  @Override
  String what() {
    return "raw pipe read end";
  }

  @Override
  public RawReader reader() {
    return reader;
  }

  @Override
  public String toString() {
    return "AsyncRawReader[" + end + "]";
  }
}
