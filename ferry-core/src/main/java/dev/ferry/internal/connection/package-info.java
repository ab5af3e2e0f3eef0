/**
 * The framed connection: {@link dev.ferry.internal.connection.FramedConnection}, the one
 * implementation of the public {@code Connection}, {@code Receiver} and {@code Sender}, made of a
 * receive side ({@code FrameReceiver}, over the one frame decoder
 * {@link dev.ferry.internal.framing.FrameReader}) and a send side
 * ({@code FrameSender}), over one transport. The event loops reach
 * it through {@link dev.ferry.internal.connection.AsyncPort}, {@code dev.ferry.handle} through
 * {@code DescriptorChannel}.
 *
 * <h2>Lock order of the engine</h2>
 *
 * <p>A thread that holds a lock of a line may take locks of the lines below it, never above:
 *
 * <ol>
 *   <li>A wait set's {@code waitLock}, then its {@code stateLock}. The waiting thread only
 *       <em>tries</em> a connection's receive lock ({@code readAhead}, {@code hasBufferedInput}):
 *       it never waits for a receiver.
 *   <li>A connection's receive lock ({@code FrameReceiver}) or its send lock ({@code
 *       FrameSender}); no thread holds both. Blocking callers wait for them; an event loop
 *       only tries the send lock (and retries later) and holds the receive lock for one
 *       non-blocking step.
 *   <li>The transport's locks: {@code SocketTransport}'s close lock, then its reader's and its
 *       writer's wait locks ({@code SelectorWait}: held while that thread selects or moves bytes
 *       without waiting; close takes them only for a passed socket, waiting at most a second for
 *       each), then its mode lock; {@code TlsTransport}'s output lock. A reader or writer that
 *       closes from inside its call (an interrupt, a lost read) holds its wait lock already: it
 *       only tries the close lock, and leaves the close to a thread that holds it.
 *   <li>Leaves, which call out to nothing: {@code ReceivedDescriptors}' monitor, the wait-set hooks'
 *       list ({@code WaitWatchers}).
 * </ol>
 *
 * <p>The hooks (wait sets', and the event loop's close watcher) take no lock of a connection or
 * a set: they queue the member, or a task for the loop, and wake the waiter. A connection runs
 * them after it has released its receive lock; a send that cuts a frame closes the connection,
 * and so runs them, with its send lock held.
 */
package dev.ferry.internal.connection;
