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

/**
 * The broker link every MQTT client of the gateway has (adapter devices, north sinks): URL, protocol
 * version, credentials, TLS, keep-alive and timeouts. Spread into a connection object's properties;
 * the client id, whose default differs per side, is declared by each side.
 */
export const MqttLinkFields = {
  url: Type.String({
    pattern: "^(mqtt|mqtts|ws|wss)://",
    description:
      "Broker URL: mqtt://, mqtts://, ws:// or wss:// with host and port, e.g. mqtt://broker:1883.",
  }),
  protocolVersion: Type.Optional(
    Type.Enum(["3.1.1", "5"], {
      default: "3.1.1",
      description: "MQTT protocol version: 3.1.1 (default) or 5.",
    }),
  ),
  ...MqttCredentialFields,
  tls: Type.Optional(TlsSchema),
  keepaliveSec: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 65535, default: 30, description: "Keep-alive interval in s." }),
  ),
  connectTimeoutMs: Type.Optional(
    Type.Integer({
      minimum: 100,
      default: 10000,
      description: "How long one connection attempt may take, in ms.",
    }),
  ),
  reconnectPeriodMs: Type.Optional(
    Type.Integer({
      minimum: 100,
      default: 2000,
      description: "Delay between mqtt.js's own reconnect attempts, in ms.",
    }),
  ),
};
