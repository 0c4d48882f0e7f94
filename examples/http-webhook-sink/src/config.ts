/**
 * Settings of the http-webhook sink, declared once in TypeBox: the fields of its `north:` entry
 * besides the core ones (id, type, select, buffer, …). Every field has a `description` (the
 * conformance kit checks); defaults are applied here, by the sink, as the core hands settings over
 * without them.
 */
import type { ConfigProblem } from "tagbridge/sdk";
import Type, { type Static } from "typebox";

/** Defaults of the optional fields. */
export const WEBHOOK_DEFAULTS = {
  requestTimeoutMs: 5_000,
  batch: { by: "gateway", maxReadings: 500, maxBytes: 262_144, lingerMs: 200 },
  probe: { method: "HEAD", minMs: 1_000, maxMs: 30_000 },
} as const;

/** Headers the sink sets itself: a configured header of one of these names is refused. */
export const OWN_HEADERS = ["content-type", "content-length", "host", "transfer-encoding", "connection"];
/** The prefix of the sink's own `tagbridge-*` headers (historical flag, count, sink, gateway). */
export const OWN_PREFIX = "tagbridge-";

/** A header name as HTTP allows it (a token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const WebhookSettingsSchema = Type.Object(
  {
    url: Type.String({
      pattern: "^https?://",
      description:
        "Where batches are POSTed, e.g. https://ingest.example.com/hooks/tagbridge. HTTPS certificates are always verified.",
    }),
    headers: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description:
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a config placeholder, shown to the user
          "HTTP headers sent with every request, e.g. authorization: Bearer ${env:HOOK_TOKEN}. Values are never logged.",
      }),
    ),
    requestTimeoutMs: Type.Optional(
      Type.Integer({
        minimum: 100,
        maximum: 600_000,
        default: WEBHOOK_DEFAULTS.requestTimeoutMs,
        description:
          "Longest wait for a complete answer to one request, in ms; a slower answer fails the publish (its readings stay buffered). Keep it below publishTimeoutMs. Default 5000.",
      }),
    ),
    batch: Type.Optional(
      Type.Object(
        {
          by: Type.Optional(
            Type.Enum(["gateway", "device"], {
              default: WEBHOOK_DEFAULTS.batch.by,
              description:
                "gateway (default): a request holds readings of any devices; device: of one device.",
            }),
          ),
          maxReadings: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 100_000,
              default: WEBHOOK_DEFAULTS.batch.maxReadings,
              description: "Most readings in one request. Default 500.",
            }),
          ),
          maxBytes: Type.Optional(
            Type.Integer({
              minimum: 1_024,
              maximum: 16_777_216,
              default: WEBHOOK_DEFAULTS.batch.maxBytes,
              description:
                "Most bytes of one request body (a single larger reading goes alone). Default 262144 (256 KiB).",
            }),
          ),
          lingerMs: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: 60_000,
              default: WEBHOOK_DEFAULTS.batch.lingerMs,
              description: "Longest a reading waits for its request to fill, in ms. Default 200.",
            }),
          ),
        },
        { additionalProperties: false, description: "How readings are grouped into requests." },
      ),
    ),
    probe: Type.Optional(
      Type.Object(
        {
          method: Type.Optional(
            Type.Enum(["HEAD", "OPTIONS", "GET"], {
              default: WEBHOOK_DEFAULTS.probe.method,
              description:
                "Request that checks the endpoint is back after a failure; any answer below 500 (other than 408 and 429) counts as reachable. Default HEAD.",
            }),
          ),
          minMs: Type.Optional(
            Type.Integer({
              minimum: 10,
              default: WEBHOOK_DEFAULTS.probe.minMs,
              description:
                "Wait before the first probe after a failure, in ms; doubled after each failed probe. Default 1000.",
            }),
          ),
          maxMs: Type.Optional(
            Type.Integer({
              minimum: 10,
              default: WEBHOOK_DEFAULTS.probe.maxMs,
              description: "Longest wait between probes, in ms. Default 30000.",
            }),
          ),
        },
        {
          additionalProperties: false,
          description: "How the sink finds out that an unreachable endpoint is back.",
        },
      ),
    ),
    tls: Type.Optional(
      Type.Object(
        {
          caFile: Type.Optional(
            Type.String({
              minLength: 1,
              description:
                "PEM file of the CA(s) that sign the endpoint's certificate, for a private CA; default: Node's bundled CAs.",
            }),
          ),
        },
        {
          additionalProperties: false,
          description: "TLS for https URLs; verification cannot be turned off.",
        },
      ),
    ),
  },
  { additionalProperties: false, description: "Where and how to POST readings." },
);

/** The sink's settings as config holds them. */
export type WebhookSettings = Static<typeof WebhookSettingsSchema>;

/** What the schema cannot say: a URL that parses, header names and values HTTP allows, probe bounds. */
export function checkSettings(settings: WebhookSettings): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (!URL.canParse(settings.url)) problems.push({ path: ["url"], message: "is not a valid URL" });
  for (const [name, value] of Object.entries(settings.headers ?? {})) {
    const lower = name.toLowerCase();
    if (!TOKEN.test(name)) problems.push({ path: ["headers", name], message: "is not a valid header name" });
    else if (OWN_HEADERS.includes(lower) || lower.startsWith(OWN_PREFIX))
      problems.push({ path: ["headers", name], message: "is set by the sink itself" });
    if (/[\r\n\0]/.test(value))
      problems.push({ path: ["headers", name], message: "contains a line break or NUL" });
  }
  const { minMs, maxMs } = { ...WEBHOOK_DEFAULTS.probe, ...settings.probe };
  if (minMs > maxMs) problems.push({ path: ["probe", "minMs"], message: `is above probe.maxMs (${maxMs})` });
  return problems;
}
