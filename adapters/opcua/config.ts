/**
 * Settings of the OPC UA adapter, declared once in TypeBox: the device's `connection` object and the
 * fields merged into each point. The README tables are written from these descriptions.
 */
import Type, { type Static } from "typebox";

const Anonymous = Type.Object(
  { kind: Type.Literal("anonymous", { description: "No user: an anonymous session." }) },
  { additionalProperties: false, description: "Anonymous session (the default)." },
);

const UserName = Type.Object(
  {
    kind: Type.Literal("username", { description: "Log in with a user name and password." }),
    username: Type.String({ minLength: 1, description: "User name." }),
    password: Type.String({
      description:
        "Password; use an env or file placeholder (see the main README) to keep it out of the file.",
    }),
  },
  {
    additionalProperties: false,
    description: "User name and password (sent encrypted by the security policy).",
  },
);

const X509 = Type.Object(
  {
    kind: Type.Literal("certificate", { description: "Log in with an X.509 user certificate." }),
    certificateFile: Type.String({ minLength: 1, description: "PEM file of the user certificate." }),
    privateKeyFile: Type.String({
      minLength: 1,
      description: "PEM file of the user certificate's private key.",
    }),
  },
  { additionalProperties: false, description: "X.509 user certificate." },
);

/** The device's `connection` object. */
export const OpcuaConnectionSchema = Type.Object(
  {
    endpointUrl: Type.String({
      pattern: "^opc\\.tcp://",
      description: "Server endpoint, e.g. `opc.tcp://plc.local:4840`.",
    }),
    security: Type.Optional(
      Type.Enum(["auto", "signAndEncrypt", "sign", "none"], {
        default: "auto",
        description:
          "Message security mode. auto (default): the most secure endpoint the server offers. none must be asked for explicitly and is warned about at every start.",
      }),
    ),
    securityPolicy: Type.Optional(
      Type.Enum(["Aes256_Sha256_RsaPss", "Aes128_Sha256_RsaOaep", "Basic256Sha256"], {
        description:
          "Restricts the security policy; by default the strongest one offered. Deprecated policies (Basic128Rsa15, Basic256) are refused.",
      }),
    ),
    identity: Type.Optional(
      Type.Union([Anonymous, UserName, X509], {
        description:
          "Who the session logs in as, chosen by `kind`: anonymous (default), username or certificate.",
      }),
    ),
    acceptServerCertificate: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "Accept the server's certificate for this device only (recorded in the device's data directory, never added to the shared trusted list). Off by default: an unknown certificate is rejected and listed until an admin trusts it.",
      }),
    ),
    connectTimeoutMs: Type.Optional(
      Type.Integer({
        minimum: 100,
        default: 10000,
        description: "Longest wait for connect and session creation in start(), in ms.",
      }),
    ),
    sessionTimeoutMs: Type.Optional(
      Type.Integer({ minimum: 1000, default: 60000, description: "Requested session timeout, in ms." }),
    ),
    publishingIntervalMs: Type.Optional(
      Type.Integer({
        minimum: 10,
        default: 1000,
        description: "Publishing interval of the subscriptions, in ms.",
      }),
    ),
    maxItemsPerSubscription: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 1000,
        description:
          "Most monitored items in one subscription; lowered to the server's MaxMonitoredItemsPerSubscription when it reports one.",
      }),
    ),
    maxNotificationsPerPublish: Type.Optional(
      Type.Integer({
        minimum: 0,
        default: 0,
        description:
          "Most notifications the server may put in one publish response; 0 lets the server decide.",
      }),
    ),
    watchdogFactor: Type.Optional(
      Type.Number({
        minimum: 1.5,
        default: 3,
        description:
          "A subscription silent (no data, no keep-alive) for this many keep-alive periods is deleted and created again.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description: "OPC UA server endpoint, security, identity and subscriptions.",
  },
);

/** The server-side deadband of a monitored item (a DataChangeFilter). */
export const ServerDeadbandSchema = Type.Object(
  {
    mode: Type.Enum(["absolute", "percent"], {
      description:
        "absolute: in the value's unit. percent: of the node's EURange (the server must have one).",
    }),
    value: Type.Number({ minimum: 0, description: "Deadband threshold." }),
  },
  {
    additionalProperties: false,
    description: "Filter applied by the server before it sends a change (monitored items only).",
  },
);

/** The OPC UA adapter's own point fields, merged flat with the core point fields. */
export const OpcuaPointSchema = Type.Object(
  {
    address: Type.String({
      minLength: 1,
      description: "NodeId of the variable, e.g. `ns=2;s=Line1.Temperature` or `ns=3;i=1001`.",
    }),
    mode: Type.Optional(
      Type.Enum(["subscribe", "poll"], {
        default: "subscribe",
        description:
          "subscribe (default): a monitored item reports changes. poll: the gateway reads the node every pollIntervalMs.",
      }),
    ),
    samplingIntervalMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          "Monitored item sampling interval in ms; default the publishing interval, 0 the fastest.",
      }),
    ),
    queueSize: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 1,
        description: "Values the server queues per publish for this item.",
      }),
    ),
    discardOldest: Type.Optional(
      Type.Boolean({
        default: true,
        description: "When the queue is full, drop the oldest value (true) or the newest.",
      }),
    ),
    serverDeadband: Type.Optional(ServerDeadbandSchema),
  },
  { additionalProperties: false, description: "OPC UA point settings." },
);

/** Validated `connection` settings. */
export type OpcuaSettings = Static<typeof OpcuaConnectionSchema>;
/** The adapter's own point fields. */
export type OpcuaPointFields = Static<typeof OpcuaPointSchema>;
/** A user identity. */
export type OpcuaIdentity = NonNullable<OpcuaSettings["identity"]>;
