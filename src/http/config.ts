/**
 * The `http:` and `auth:` sections of the gateway config: where the API listens and how it is
 * protected. Declared here, next to the code that uses them; src/config composes them.
 */
import Type from "typebox";

const TlsSchema = Type.Object(
  {
    certFile: Type.String({
      minLength: 1,
      description: "PEM certificate (chain) file; relative to the config file.",
    }),
    keyFile: Type.String({ minLength: 1, description: "PEM private key file; relative to the config file." }),
  },
  { additionalProperties: false, description: "Serve HTTPS (and WSS) with this certificate and key." },
);

/** `http:`: listener, TLS and request limits. */
export const HttpConfigSchema = Type.Object(
  {
    host: Type.Optional(
      Type.String({
        minLength: 1,
        default: "127.0.0.1",
        description:
          "Address the HTTP service listens on. Anything but loopback needs `tls`, or `plaintext: anywhere`.",
      }),
    ),
    port: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 65535,
        default: 8080,
        description: "TCP port of the HTTP service; 0 picks a free port.",
      }),
    ),
    tls: Type.Optional(TlsSchema),
    plaintext: Type.Optional(
      Type.Enum(["loopback", "anywhere"], {
        default: "loopback",
        description:
          "Where plain HTTP is allowed without `tls`: loopback (default) refuses to start on another address; anywhere allows it, with a warning at every start.",
      }),
    ),
    cors: Type.Optional(
      Type.Object(
        {
          origins: Type.Array(
            Type.String({ minLength: 1, description: "An origin, e.g. https://scada.example.com." }),
            {
              description: "Browser origins allowed to call the API. None by default.",
            },
          ),
        },
        {
          additionalProperties: false,
          description: "Cross-origin access for browser apps on other origins.",
        },
      ),
    ),
    allowedHosts: Type.Optional(
      Type.Array(
        Type.String({
          minLength: 1,
          pattern: "^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\\.?$",
          description: "A host name, without port, e.g. gateway.plant.local.",
        }),
        {
          description:
            "Host names the gateway answers to besides IP addresses and localhost. The Host header is checked on every WebSocket handshake and, with auth.anonymous: loopback-viewer, on every request (against DNS rebinding). None by default.",
        },
      ),
    ),
    rateLimit: Type.Optional(
      Type.Object(
        {
          max: Type.Integer({
            minimum: 1,
            default: 1200,
            description: "Requests one client address may make per window.",
          }),
          windowMs: Type.Integer({
            minimum: 1000,
            default: 60_000,
            description: "Length of the window in ms.",
          }),
        },
        {
          additionalProperties: false,
          default: {},
          description: "Per-client request rate limit (429 beyond it).",
        },
      ),
    ),
    bodyLimitBytes: Type.Optional(
      Type.Integer({
        minimum: 1024,
        default: 1_048_576,
        description: "Largest request body accepted (413 beyond it).",
      }),
    ),
    requestTimeoutMs: Type.Optional(
      Type.Integer({
        minimum: 1000,
        default: 30_000,
        description: "Time a client has to send a whole request.",
      }),
    ),
    maxStreamClients: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 100,
        description: "Most WebSocket and SSE clients at once (503 beyond it).",
      }),
    ),
  },
  { additionalProperties: false, default: {}, description: "HTTP service (REST, WebSocket, SSE, console)." },
);

/** `auth:`: who may call the API without a token. Tokens themselves live in the data directory. */
export const AuthConfigSchema = Type.Object(
  {
    anonymous: Type.Optional(
      Type.Enum(["none", "loopback-viewer"], {
        default: "none",
        description:
          "none (default): every route but /healthz, /readyz and /docs needs a token. loopback-viewer: callers on 127.0.0.1 or ::1 may read without one.",
      }),
    ),
  },
  {
    additionalProperties: false,
    default: {},
    description: "API authentication. Tokens are managed at /api/v1/tokens.",
  },
);

/** `http:` with defaults applied. */
export interface HttpConfig {
  host: string;
  port: number;
  tls?: { certFile: string; keyFile: string };
  plaintext: "loopback" | "anywhere";
  cors?: { origins: string[] };
  allowedHosts?: string[];
  rateLimit: { max: number; windowMs: number };
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  maxStreamClients: number;
}

/** `auth:` with defaults applied. */
export interface AuthConfig {
  anonymous: "none" | "loopback-viewer";
}
