package dev.ferry;

import dev.ferry.internal.auth.Handshake;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/**
 * Settings for listeners, clients and the connections they make. Immutable; build one with
 * {@link #builder()} or take {@link #defaults()}.
 *
 * <pre>{@code
 * ConnectionOptions options = ConnectionOptions.builder()
 *     .authKey(AuthKey.fromHex(hex))
 *     .handshakeTimeout(Duration.ofSeconds(5))
 *     .build();
 * }</pre>
 */
public final class ConnectionOptions {
  /** The default largest message a receive accepts: 1 GiB. */
  public static final long DEFAULT_MAX_MESSAGE_SIZE = 1L << 30;

  private static final ConnectionOptions DEFAULTS = builder().build();

  private final AuthKey authKey;
  private final Duration handshakeTimeout;
  private final Duration connectTimeout;
  private final int backlog;
  private final int maxPendingHandshakes;
  private final long maxMessageSize;
  private final boolean unauthenticatedNetworkAllowed;
  private final PythonVersion peerPython;
  private final PeerPolicy peerPolicy;
  private final SSLContext tls;
  private final boolean clientCertificateRequired;
  private final String tlsServerName;
  private final Duration receiveSpin;
  private final String unprefixedDigest;
  private final SharedMemoryLane sharedMemoryLane;

  private ConnectionOptions(Builder b) {
    this.authKey = b.authKey;
    this.handshakeTimeout = b.handshakeTimeout;
    this.connectTimeout = b.connectTimeout;
    this.backlog = b.backlog;
    this.maxPendingHandshakes = b.maxPendingHandshakes;
    this.maxMessageSize = b.maxMessageSize;
    this.unauthenticatedNetworkAllowed = b.unauthenticatedNetworkAllowed;
    this.peerPython = b.peerPython;
    this.peerPolicy = b.peerPolicy;
    this.tls = b.tls;
    this.clientCertificateRequired = b.clientCertificateRequired;
    this.tlsServerName = b.tlsServerName;
    this.receiveSpin = b.receiveSpin;
    this.unprefixedDigest = b.unprefixedDigest;
    this.sharedMemoryLane = b.sharedMemoryLane;
  }

  /**
   * The shared-memory lane this end asks for (or, on a listener, accepts), if any. See
   * {@link Builder#sharedMemoryLane(SharedMemoryLane)}.
   */
  public Optional<SharedMemoryLane> sharedMemoryLane() {
    return Optional.ofNullable(sharedMemoryLane);
  }

  /**
   * No key, no TLS, 10 s handshake and connect timeouts, backlog 128, 1,024 handshakes at once, 1 GiB
   * messages.
   */
  public static ConnectionOptions defaults() {
    return DEFAULTS;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from these options. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.authKey = authKey;
    b.handshakeTimeout = handshakeTimeout;
    b.connectTimeout = connectTimeout;
    b.backlog = backlog;
    b.maxPendingHandshakes = maxPendingHandshakes;
    b.maxMessageSize = maxMessageSize;
    b.unauthenticatedNetworkAllowed = unauthenticatedNetworkAllowed;
    b.peerPython = peerPython;
    b.peerPolicy = peerPolicy;
    b.tls = tls;
    b.clientCertificateRequired = clientCertificateRequired;
    b.tlsServerName = tlsServerName;
    b.receiveSpin = receiveSpin;
    b.unprefixedDigest = unprefixedDigest;
    b.sharedMemoryLane = sharedMemoryLane;
    return b;
  }

  /** The handshake key; empty means no handshake. */
  public Optional<AuthKey> authKey() {
    return Optional.ofNullable(authKey);
  }

  /** How long each side's whole handshake may take before it fails. CPython has no such limit. */
  public Duration handshakeTimeout() {
    return handshakeTimeout;
  }

  /** How long {@link Client#connect} waits for the peer to accept the connection. */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /** The listen queue length. CPython uses 1, which drops connections under load. */
  public int backlog() {
    return backlog;
  }

  /**
   * How many accepted clients may be in their handshake at once; more wait in the listen queue.
   * All handshakes run on the listener's one thread, each bounded by
   * {@link #handshakeTimeout()}.
   */
  public int maxPendingHandshakes() {
    return maxPendingHandshakes;
  }

  /**
   * The largest message length a receive accepts, checked against the header before any payload
   * is read or allocated. {@link Receiver#receiveBytes(int)} may lower it for one call.
   */
  public long maxMessageSize() {
    return maxMessageSize;
  }

  /** Whether a TCP listener may listen on a non-loopback address with neither a key nor TLS. */
  public boolean unauthenticatedNetworkAllowed() {
    return unauthenticatedNetworkAllowed;
  }

  /** The peer's Python version, if the caller named it; empty for Java peers or unknown ones. */
  public Optional<PythonVersion> peerPython() {
    return Optional.ofNullable(peerPython);
  }

  /**
   * Which local users a Unix socket listener lets through to the handshake, judged on the peer's
   * kernel-reported credentials; empty lets everyone who can open the socket file try.
   */
  public Optional<PeerPolicy> peerPolicy() {
    return Optional.ofNullable(peerPolicy);
  }

  /**
   * The TLS context that TCP connections run over, under the HMAC handshake if there is a key;
   * empty for plain TCP. See {@link Builder#tls(SSLContext)}.
   */
  public Optional<SSLContext> tls() {
    return Optional.ofNullable(tls);
  }

  /** Whether a TLS listener refuses clients that show no certificate its context trusts. */
  public boolean clientCertificateRequired() {
    return clientCertificateRequired;
  }

  /**
   * The name a TLS client expects in the server's certificate; empty means the host of the
   * address it connects to.
   */
  public Optional<String> tlsServerName() {
    return Optional.ofNullable(tlsServerName);
  }

  /**
   * How long a blocking receive polls for the next message before it sleeps until one comes; zero
   * (the default) sleeps at once. See {@link Builder#receiveSpin(Duration)}.
   */
  public Duration receiveSpin() {
    return receiveSpin;
  }

  /**
   * The digest that answers a challenge naming none, as {@code hashlib} spells it: {@code "md5"}
   * unless set. See {@link Builder#unprefixedDigest(String)}.
   */
  public String unprefixedDigest() {
    return unprefixedDigest;
  }

  /**
   * The largest message a send may write: unlimited, except 2^31-1 bytes toward a Python peer
   * older than 3.8, which cannot read the 64-bit length escape.
   */
  public long maxSendSize() {
    return peerPython != null && !peerPython.readsLongFrames() ? 0x7fffffffL : Long.MAX_VALUE;
  }

  /** Refuses TLS with a Unix socket address, naming the address. */
  void checkTlsAddress(Address address) {
    if (tls != null && !(address instanceof Address.Tcp)) {
      throw new IllegalArgumentException("tls needs a tcp address, and " + address
          + " is a unix socket: use a tcp address, or drop tls (a unix socket never leaves the"
          + " host)");
    }
  }

  @Override
  public String toString() {
    return "ConnectionOptions[authKey=" + authKey + ", handshakeTimeout=" + handshakeTimeout
        + ", connectTimeout=" + connectTimeout + ", backlog=" + backlog + ", maxMessageSize="
        + maxMessageSize + (peerPolicy == null ? "" : ", peerPolicy=" + peerPolicy)
        + (tls == null ? "" : ", tls=" + tls.getProtocol()
            + (clientCertificateRequired ? ", clientCertificateRequired" : "")
            + (tlsServerName == null ? "" : ", tlsServerName=" + tlsServerName))
        + (receiveSpin.isZero() ? "" : ", receiveSpin=" + receiveSpin)
        + (unprefixedDigest.equals(Handshake.DEFAULT_UNPREFIXED_DIGEST) ? ""
            : ", unprefixedDigest=" + unprefixedDigest)
        + (sharedMemoryLane == null ? "" : ", " + sharedMemoryLane)
        + "]";
  }

  /** Builds {@link ConnectionOptions}. Every setter checks its argument at once. */
  public static final class Builder {
    private AuthKey authKey;
    private Duration handshakeTimeout = Duration.ofSeconds(10);
    private Duration connectTimeout = Duration.ofSeconds(10);
    private int backlog = 128;
    private int maxPendingHandshakes = 1024;
    private long maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE;
    private boolean unauthenticatedNetworkAllowed;
    private PythonVersion peerPython;
    private PeerPolicy peerPolicy;
    private SSLContext tls;
    private boolean clientCertificateRequired;
    private String tlsServerName;
    private Duration receiveSpin = Duration.ZERO;
    private String unprefixedDigest = Handshake.DEFAULT_UNPREFIXED_DIGEST;
    private SharedMemoryLane sharedMemoryLane;

    private Builder() {}

    /**
     * Offers (client), accepts (listener) or sets up (pipe) a shared-memory lane on Unix socket
     * connections whose peer opted in too; others stay plain sockets. Ignored for TCP.
     */
    public Builder sharedMemoryLane(SharedMemoryLane lane) {
      this.sharedMemoryLane = Objects.requireNonNull(lane, "lane");
      return this;
    }

    /** No shared-memory lane (the default). */
    public Builder noSharedMemoryLane() {
      this.sharedMemoryLane = null;
      return this;
    }

    /** Authenticate every connection with this key (both sides must hold it). */
    public Builder authKey(AuthKey authKey) {
      this.authKey = Objects.requireNonNull(authKey, "authKey");
      return this;
    }

    /** Skip the handshake: anyone who can reach the address may talk. */
    public Builder noAuthKey() {
      this.authKey = null;
      return this;
    }

    public Builder handshakeTimeout(Duration timeout) {
      this.handshakeTimeout = positive(timeout, "handshakeTimeout");
      return this;
    }

    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = positive(timeout, "connectTimeout");
      return this;
    }

    public Builder backlog(int backlog) {
      if (backlog < 1) throw new IllegalArgumentException("backlog < 1: " + backlog);
      this.backlog = backlog;
      return this;
    }

    public Builder maxPendingHandshakes(int maxPendingHandshakes) {
      if (maxPendingHandshakes < 1) {
        throw new IllegalArgumentException("maxPendingHandshakes < 1: " + maxPendingHandshakes);
      }
      this.maxPendingHandshakes = maxPendingHandshakes;
      return this;
    }

    public Builder maxMessageSize(long maxMessageSize) {
      if (maxMessageSize < 0) {
        throw new IllegalArgumentException("maxMessageSize < 0: " + maxMessageSize);
      }
      this.maxMessageSize = maxMessageSize;
      return this;
    }

    /**
     * Let a TCP listener bind a non-loopback address with neither a key nor TLS. Anyone on the
     * network can then connect, read and send messages, which an object codec would decode: say
     * so on purpose.
     */
    public Builder allowUnauthenticatedNetwork() {
      this.unauthenticatedNetworkAllowed = true;
      return this;
    }

    /**
     * Names the Python version of the peer, so that a send it could not read fails loudly here
     * instead of desynchronising its stream: messages over 2 GiB toward Python 3.7 and older.
     */
    public Builder peerPython(PythonVersion version) {
      this.peerPython = Objects.requireNonNull(version, "version");
      return this;
    }

    /**
     * Refuse Unix socket clients whose user the policy does not allow, before the handshake:
     * {@link Listener#accept()} reports each with a {@link PeerRefusedException} naming the uid.
     * A TCP listener with a policy refuses to start (TCP peers carry no credentials).
     */
    public Builder peerPolicy(PeerPolicy policy) {
      this.peerPolicy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * Run TCP connections over TLS with {@code context}: its key managers give this side's
     * certificate (a listener needs one; a client only for {@link #requireClientCertificate()
     * mutual TLS}), its trust managers decide whose certificates to accept. A client also checks
     * that the server's certificate names the host it connects to (see {@link #tlsServerName}).
     * The HMAC handshake still runs inside TLS when there is a key.
     *
     * <p>A listener or client with TLS refuses Unix socket addresses and pipes. A failed TLS
     * handshake throws {@link TlsHandshakeException}; one that takes longer than
     * {@link #handshakeTimeout} throws {@link java.net.SocketTimeoutException}.
     */
    public Builder tls(SSLContext context) {
      this.tls = Objects.requireNonNull(context, "context");
      return this;
    }

    /** Plain TCP, no TLS: the default. */
    public Builder noTls() {
      this.tls = null;
      return this;
    }

    /**
     * Mutual TLS: a TLS listener refuses a client whose certificate its context does not trust, or
     * that shows none. Needs {@link #tls}. With TLS 1.3 the client learns of the refusal on its
     * first receive (or in the HMAC handshake, when there is a key), not in
     * {@link Client#connect}.
     */
    public Builder requireClientCertificate() {
      this.clientCertificateRequired = true;
      return this;
    }

    /**
     * The host name (or IP address) a TLS client expects the server's certificate to name, and
     * sends as SNI, instead of the host of the address: for connecting by IP address to a server
     * whose certificate names a host. Needs {@link #tls}.
     */
    public Builder tlsServerName(String serverName) {
      Objects.requireNonNull(serverName, "serverName");
      if (serverName.isEmpty()) throw new IllegalArgumentException("empty tlsServerName");
      this.tlsServerName = serverName;
      return this;
    }

    /**
     * Trade a busy core for latency: a blocking receive that finds no message polls the socket
     * for up to {@code spin} before it sleeps in the kernel, so a message that comes within that
     * time is taken without the wake-up of a sleeping thread (tens of microseconds on an idle
     * machine, most of a round trip). Worth it for a server that answers a peer waiting on each
     * reply, with a core to spare; a waste where messages come seldom. The receiving thread (a
     * virtual thread's carrier too) stays busy while it polls. A receive with a timeout polls no
     * longer than its timeout. Asynchronous receives, {@code poll} and {@code Wait} never spin.
     * Zero, the default, turns it off.
     *
     * @throws IllegalArgumentException if {@code spin} is negative or over one second
     */
    public Builder receiveSpin(Duration spin) {
      Objects.requireNonNull(spin, "spin");
      if (spin.isNegative()) throw new IllegalArgumentException("receiveSpin < 0: " + spin);
      if (spin.compareTo(Duration.ofSeconds(1)) > 0) {
        throw new IllegalArgumentException("receiveSpin over 1 s: " + spin
            + " (a core busy that long is better spent sleeping)");
      }
      this.receiveSpin = spin;
      return this;
    }

    /**
     * The digest that answers a challenge with no {@code {name}} prefix (20 bytes after
     * {@code #CHALLENGE#}), as {@code hashlib} spells it: {@code "md5"} by default, as CPython
     * answers; {@code "sha256"} for a peer of seed 001's kind, which some distributions ship
     * ({@code HMAC_DIGEST_NAME='sha256'}: raw HMAC-SHA256 both ways). A raw answer of that
     * digest's length to this side's own challenge is accepted too. A prefixed challenge is
     * answered in the digest it names whatever this says; a listener whose peer answered its
     * challenge with a raw MAC answers that peer in the same digest.
     *
     * @throws IllegalArgumentException naming {@code name} if this runtime has no such digest:
     *     {@code "unknown digest: sha4"}, {@code "digest not available in this java runtime:
     *     blake2b"}
     */
    public Builder unprefixedDigest(String name) {
      this.unprefixedDigest = Handshake.requireDigest(name);
      return this;
    }

    /**
     * The options chosen so far.
     *
     * @throws IllegalArgumentException if {@link #requireClientCertificate()} or
     *     {@link #tlsServerName} was chosen without {@link #tls}
     */
    public ConnectionOptions build() {
      if (tls == null && clientCertificateRequired) {
        throw new IllegalArgumentException("requireClientCertificate needs tls(SSLContext)");
      }
      if (tls == null && tlsServerName != null) {
        throw new IllegalArgumentException("tlsServerName " + tlsServerName
            + " needs tls(SSLContext)");
      }
      return new ConnectionOptions(this);
    }

    private static Duration positive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) throw new IllegalArgumentException(name + " <= 0: " + d);
      return d;
    }
  }
}
