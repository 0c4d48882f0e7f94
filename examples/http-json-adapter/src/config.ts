/**
 * Settings of the http-json adapter, declared once in TypeBox: the device's `connection` object and
 * the fields merged into each point. Every field has a `description` (the conformance kit checks).
 */
import Type, { type Static } from "typebox";

/** The device's `connection` object. */
export const HttpJsonConnectionSchema = Type.Object(
  {
    url: Type.String({
      pattern: "^https?://",
      description:
        "URL of the device's JSON document, e.g. http://10.0.0.5/status.json. Points without their own `url` read it; a point's `url` is resolved against it.",
    }),
    timeoutMs: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 3000,
        description: "Longest wait for a complete response, in ms; a slower URL reads as bad/Timeout.",
      }),
    ),
    headers: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: "HTTP headers sent with every request, e.g. an Authorization header.",
      }),
    ),
  },
  { additionalProperties: false, description: "Where and how to poll one HTTP JSON device." },
);

/** The adapter's own point fields, merged flat with the core point fields (id, type, unit, ...). */
export const HttpJsonPointSchema = Type.Object(
  {
    path: Type.Optional(
      Type.String({
        minLength: 1,
        default: "$",
        description:
          "JSONPath of the value in the response, the same language as the MQTT adapter's `path` (jsonpath-plus): `$.temp.value`, `$.sensors[?(@.id=='t1')].value`. Default `$`, the whole document.",
      }),
    ),
    url: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "URL this point polls instead of the device's, absolute or relative to it (e.g. `/api/pump/2`). Points with the same URL share one request per poll.",
      }),
    ),
  },
  { additionalProperties: false, description: "http-json point settings." },
);

/** Validated `connection` settings. */
export type HttpJsonSettings = Static<typeof HttpJsonConnectionSchema>;
/** The adapter's own point fields. */
export type HttpJsonPointFields = Static<typeof HttpJsonPointSchema>;
