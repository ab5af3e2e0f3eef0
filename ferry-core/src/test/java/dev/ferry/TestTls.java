package dev.ferry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Certificates made at test time by the JDK's {@code keytool}, without network: a server
 * certificate for localhost, 127.0.0.1 and ::1, a client certificate the server trusts, and a
 * stranger's certificate it does not. Made once per test JVM, in a temporary directory removed on
 * exit.
 */
final class TestTls {
  private static final char[] PASSWORD = "changeit".toCharArray();
  private static final Path DIR;
  private static final KeyStore SERVER;
  private static final KeyStore CLIENT;
  private static final KeyStore STRANGER;

  static {
    try {
      DIR = Files.createTempDirectory("ferry-tls");
      SERVER = generate("server", "CN=localhost", "SAN=dns:localhost,ip:127.0.0.1,ip:::1");
      CLIENT = generate("client", "CN=ferry client", null);
      STRANGER = generate("stranger", "CN=stranger", null);
      Runtime.getRuntime().addShutdownHook(new Thread(TestTls::deleteAll, "tls-cleanup"));
    } catch (IOException | GeneralSecurityException | InterruptedException e) {
      throw new IllegalStateException("cannot make test certificates", e);
    }
  }

  private TestTls() {}

  /** The listener's context: the server certificate; trusts the client certificate. */
  static SSLContext server() {
    return context(SERVER, CLIENT);
  }

  /** A client with the trusted client certificate, trusting the server. */
  static SSLContext client() {
    return context(CLIENT, SERVER);
  }

  /** A client without a certificate, trusting the server. */
  static SSLContext anonymousClient() {
    return context(null, SERVER);
  }

  /** A client whose certificate the server does not trust, trusting the server. */
  static SSLContext strangerClient() {
    return context(STRANGER, SERVER);
  }

  /** A client that trusts only the stranger: it refuses the server's certificate. */
  static SSLContext distrustfulClient() {
    return context(null, STRANGER);
  }

  /** Listener options with TLS added to {@code base}. */
  static ConnectionOptions serverOptions(ConnectionOptions base) {
    return base.toBuilder().tls(server()).build();
  }

  /** Client options with TLS (and the trusted client certificate) added to {@code base}. */
  static ConnectionOptions clientOptions(ConnectionOptions base) {
    return base.toBuilder().tls(client()).build();
  }

  /** The server certificate as PEM, for Python's {@code cafile}. */
  static Path serverCertificatePem() throws IOException, GeneralSecurityException {
    return pem("server-cert.pem", "CERTIFICATE", certificate(SERVER).getEncoded());
  }

  /** The client certificate and its key as PEM files, for Python's {@code load_cert_chain}. */
  static Path[] clientCertificateAndKeyPem() throws IOException, GeneralSecurityException {
    return certificateAndKeyPem(CLIENT, "client");
  }

  /** The server certificate and its key as PEM files, for a Python TLS server. */
  static Path[] serverCertificateAndKeyPem() throws IOException, GeneralSecurityException {
    return certificateAndKeyPem(SERVER, "server");
  }

  private static Path[] certificateAndKeyPem(KeyStore store, String name)
      throws IOException, GeneralSecurityException {
    PrivateKey key = (PrivateKey) store.getKey(store.aliases().nextElement(), PASSWORD);
    return new Path[] {pem(name + "-cert.pem", "CERTIFICATE", certificate(store).getEncoded()),
        pem(name + "-key.pem", "PRIVATE KEY", key.getEncoded())};
  }

  private static Path pem(String name, String type, byte[] der) throws IOException {
    Path file = DIR.resolve(name);
    String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(der);
    Files.writeString(file, "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type
        + "-----\n");
    return file;
  }

  private static Certificate certificate(KeyStore store) {
    try {
      return store.getCertificate(store.aliases().nextElement());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static SSLContext context(KeyStore identity, KeyStore trusted) {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("trusted", certificate(trusted));
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      KeyManagerFactory kmf = null;
      if (identity != null) {
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(identity, PASSWORD);
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static KeyStore generate(String alias, String dname, String extension)
      throws IOException, GeneralSecurityException, InterruptedException {
    Path store = DIR.resolve(alias + ".p12");
    Path log = DIR.resolve(alias + ".log");
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
        "-genkeypair", "-alias", alias, "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", dname, "-validity", "2", "-storetype", "PKCS12",
        "-keystore", store.toString(), "-storepass", "changeit", "-keypass", "changeit"));
    if (extension != null) {
      command.add("-ext");
      command.add(extension);
    }
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .start();
    if (p.waitFor() != 0) {
      throw new IOException("keytool failed: " + Files.readString(log));
    }
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, PASSWORD);
    }
    return ks;
  }

  private static void deleteAll() {
    try (var files = Files.list(DIR)) {
      for (Path f : (Iterable<Path>) files::iterator) Files.deleteIfExists(f);
      Files.deleteIfExists(DIR);
    } catch (IOException e) {
      // A temporary directory: the system cleans it eventually.
    }
  }
}
