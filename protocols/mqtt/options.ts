/**
 * MQTT connection option schemas shared by the MQTT adapter (south) and the MQTT/Sparkplug north
 * sinks, so TLS and credentials are declared once. Schemas only: no sockets.
 */
import Type from "typebox";

/** TLS settings for mqtts:// and wss://. */
export const TlsSchema = Type.Object(
  {
    caFile: Type.Optional(
      Type.String({
        description: "PEM file of the CA(s) that signed the broker's certificate; system CAs when absent.",
      }),
    ),
    certFile: Type.Optional(
      Type.String({ description: "PEM client certificate, for brokers that require one." }),
    ),
    keyFile: Type.Optional(Type.String({ description: "PEM private key of the client certificate." })),
    serverVerification: Type.Optional(
      Type.Enum(["verify", "insecure"], {
        default: "verify",
        description:
          "verify (default): reject a broker whose certificate does not chain to a trusted CA or match its host name. insecure: accept any certificate (logs a warning on every connect).",
      }),
    ),
  },
  { additionalProperties: false, description: "TLS for mqtts:// and wss:// URLs." },
);

/** Broker user name and password, spread into a connection object's properties. */
export const MqttCredentialFields = {
  username: Type.Optional(Type.String({ description: "User name for broker authentication." })),
  password: Type.Optional(
    Type.String({
      description:
        "Password for broker authentication; keep it out of the file with an env or file placeholder.",
    }),
  ),
};
