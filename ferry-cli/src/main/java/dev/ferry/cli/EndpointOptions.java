package dev.ferry.cli;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.ConnectionOptions;
import dev.ferry.pickle.PickleCodec;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The options every networking command shares: where, with which key, and how to read messages. */
final class EndpointOptions {
  @Option(names = "--address", paramLabel = "ADDR",
      converter = AddressConverter.class,
      description = "unix:/path, unix:@abstract-name, tcp:host:port or tcp:[v6-host]:port")
  Address address;

  @Option(names = "--authkey-hex", paramLabel = "HEX", converter = AuthKeyConverter.class,
      description = "Authenticate with this key (hex; \"\" is the empty key)."
          + " Default: no handshake.")
  AuthKey authKey;

  @Option(names = "--digest", paramLabel = "NAME", converter = DigestConverter.class,
      description = "With --authkey-hex: answer a challenge that names no digest with this one, "
          + "as hashlib names it (default: md5, as CPython; sha256 for a peer whose "
          + "HMAC_DIGEST_NAME is 'sha256'). A challenge that names its digest is answered in it.")
  String digest;

  @Option(names = "--codec", paramLabel = "CODEC", defaultValue = "bytes",
      converter = MessageCodec.Converter.class, completionCandidates = MessageCodec.Names.class,
      description = "bytes, utf8, pickle or xmlrpc (default: ${DEFAULT-VALUE})")
  MessageCodec codec;

  @Option(names = "--pickle-protocol", paramLabel = "N", converter = ProtocolConverter.class,
      description = "With --codec pickle: the protocol to write, 2 to 5 (default: "
          + PickleCodec.DEFAULT_PROTOCOL + "; 2 for a Python 2.7 peer; echo answers each message"
          + " in the protocol it came in, 2 at least). Any protocol is read.")
  Integer pickleProtocol;

  @Spec(Spec.Target.MIXEE)
  CommandSpec command;

  /**
   * The address of {@code --address}.
   *
   * @throws ParameterException in picocli's words if it was not given
   */
  Address address() {
    if (address == null) {
      throw new ParameterException(command.commandLine(), "Missing required option: '--address=ADDR'");
    }
    return address;
  }

  /**
   * The codec of {@code --codec}, with {@code --pickle-protocol} applied.
   *
   * @throws ParameterException if {@code --pickle-protocol} comes without {@code --codec pickle}
   */
  MessageCodec codec() {
    if (pickleProtocol == null) return codec;
    if (!(codec instanceof MessageCodec.Pickle)) {
      throw new ParameterException(command.commandLine(),
          "--pickle-protocol needs --codec pickle (the codec is " + codec.cliName() + ")");
    }
    return MessageCodec.pickleFixed(PickleCodec.builder().protocol(pickleProtocol).build());
  }

  ConnectionOptions connectionOptions() {
    ConnectionOptions.Builder builder = ConnectionOptions.builder();
    if (authKey != null) builder.authKey(authKey);
    if (digest != null) builder.unprefixedDigest(digest);
    return builder.build();
  }

  static final class AddressConverter implements ITypeConverter<Address> {
    @Override
    public Address convert(String value) {
      try {
        return Address.parse(value);
      } catch (IllegalArgumentException e) {
        throw new BadValueException(e.getMessage());
      }
    }
  }

  static final class AuthKeyConverter implements ITypeConverter<AuthKey> {
    @Override
    public AuthKey convert(String value) {
      try {
        return AuthKey.fromHex(value);
      } catch (IllegalArgumentException e) {
        // The message would show the key itself; a typo in a secret still shouldn't reach logs.
        throw new BadValueException("--authkey-hex is not hexadecimal (" + value.length()
            + " characters; expected an even number of 0-9a-f)");
      }
    }
  }

  static final class DigestConverter implements ITypeConverter<String> {
    @Override
    public String convert(String value) {
      try {
        return ConnectionOptions.builder().unprefixedDigest(value).build().unprefixedDigest();
      } catch (IllegalArgumentException e) {
        throw new BadValueException("--digest: " + e.getMessage());
      }
    }
  }

  static final class ProtocolConverter implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      int protocol;
      try {
        protocol = Integer.parseInt(value.strip());
      } catch (NumberFormatException e) {
        protocol = -1;
      }
      if (protocol < 2 || protocol > 5) {
        throw new BadValueException("--pickle-protocol must be 2 to 5: " + value);
      }
      return protocol;
    }
  }
}
