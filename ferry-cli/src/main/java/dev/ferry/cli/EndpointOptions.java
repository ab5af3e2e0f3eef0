package dev.ferry.cli;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.ConnectionOptions;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/** The options every networking command shares: where, with which key, and how to read messages. */
final class EndpointOptions {
  @Option(names = "--address", required = true, paramLabel = "ADDR",
      converter = AddressConverter.class,
      description = "unix:/path, unix:@abstract-name, tcp:host:port or tcp:[v6-host]:port")
  Address address;

  @Option(names = "--authkey-hex", paramLabel = "HEX", converter = AuthKeyConverter.class,
      description = "Authenticate with this key (hex; \"\" is the empty key)."
          + " Default: no handshake.")
  AuthKey authKey;

  @Option(names = "--codec", paramLabel = "CODEC", defaultValue = "bytes",
      converter = MessageCodec.Converter.class, completionCandidates = MessageCodec.Names.class,
      description = "bytes or utf8 (default: ${DEFAULT-VALUE})")
  MessageCodec codec;

  ConnectionOptions connectionOptions() {
    ConnectionOptions.Builder builder = ConnectionOptions.builder();
    if (authKey != null) builder.authKey(authKey);
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
}
