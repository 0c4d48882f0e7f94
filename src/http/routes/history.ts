/**
 * History of one point: raw readings, or min/max/avg buckets for charts, from the history store.
 * Registered with `{ gateway, history, prefix: "/api/v1" }`.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { GatewayView } from "../../core/types.js";
import { HistoryUnavailable } from "../../history/client.js";
import type { HistoryReader } from "../../history/types.js";
import { QUALITIES, ReadingSchema } from "../../schema/reading.js";
import { errorResponses, fail } from "../errors.js";
import { PointParamsSchema } from "../schemas.js";

const HOUR_MS = 3_600_000;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: HOUR_MS, d: 24 * HOUR_MS } as const;
const BUCKET_PATTERN = "^([1-9][0-9]{0,5})(ms|s|m|h|d)$";

const IsoTime = (description: string) => Type.String({ format: "date-time", description });

/** `?from=&to=&limit=&bucket=` of the history route. */
export const HistoryQuerySchema = Type.Object(
  {
    from: Type.Optional(
      IsoTime("Earliest reading time (inclusive), ISO 8601 with a zone. Default: one hour before `to`."),
    ),
    to: Type.Optional(IsoTime("Latest reading time (inclusive), ISO 8601 with a zone. Default: now.")),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10_000,
        default: 1_000,
        description: "Most samples (or buckets) returned, oldest first; `truncated` tells when more exist.",
      }),
    ),
    bucket: Type.Optional(
      Type.String({
        pattern: BUCKET_PATTERN,
        description:
          "Downsample into buckets of this duration: an integer and a unit ms, s, m, h or d (e.g. `500ms`, `1m`, `1h`, as Grafana's `$__interval`). Buckets are aligned to the Unix epoch and aggregate numeric good-quality values only.",
      }),
    ),
  },
  { additionalProperties: false },
);

const HistorySampleSchema = Type.Object(
  {
    ts: IsoTime("The reading's `ts`."),
    value: ReadingSchema.properties.value,
    quality: Type.Enum(QUALITIES, { description: "Quality of the reading." }),
    status: Type.Optional(Type.String({ description: "Protocol detail behind the quality." })),
  },
  { additionalProperties: false, description: "One stored reading." },
);

const HistoryBucketSchema = Type.Object(
  {
    ts: IsoTime("Start of the bucket; it covers [ts, ts + bucketMs)."),
    min: Type.Number({ description: "Smallest value in the bucket." }),
    max: Type.Number({ description: "Largest value in the bucket." }),
    avg: Type.Number({ description: "Mean of the values in the bucket." }),
    count: Type.Integer({ minimum: 1, description: "Values aggregated; empty buckets are omitted." }),
  },
  { additionalProperties: false, description: "Aggregate of the numeric good-quality values of one bucket." },
);

/** The history response: `samples` without `bucket`, `buckets` with it. */
export const HistoryResponseSchema = Type.Object(
  {
    device: Type.String({ description: "Device id." }),
    point: Type.String({ description: "Point id." }),
    from: IsoTime("Start of the range served."),
    to: IsoTime("End of the range served."),
    bucketMs: Type.Optional(
      Type.Integer({ minimum: 1, description: "Bucket width in ms, when downsampled." }),
    ),
    truncated: Type.Boolean({
      description: "true: `limit` cut the result; ask again from after the last `ts`.",
    }),
    samples: Type.Optional(Type.Array(HistorySampleSchema, { description: "Raw readings, oldest first." })),
    buckets: Type.Optional(
      Type.Array(HistoryBucketSchema, { description: "Non-empty buckets, oldest first." }),
    ),
  },
  { additionalProperties: false, description: "Stored readings of one point over a time range." },
);

/** Milliseconds of a `bucket` duration such as `1m`; undefined when it does not match the pattern. */
export function parseBucket(bucket: string): number | undefined {
  const match = new RegExp(BUCKET_PATTERN).exec(bucket);
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

function parseTime(field: "from" | "to", text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    fail("TB_ERR_BAD_REQUEST", [{ field: `querystring/${field}`, message: "is not a valid time" }]);
  return ms;
}

/** Options of {@link historyRoutes}. */
export interface HistoryRoutesOptions {
  gateway: GatewayView;
  history: HistoryReader;
}

/**
 * `GET /devices/:device/points/:point/history` (viewer). Ranges are inclusive at both ends; without
 * `from`/`to` the last hour up to now is served. While the store's worker thread is down the route
 * answers 500 TB_ERR_INTERNAL with a `history` detail saying so. Register under `/api/v1`.
 */
export const historyRoutes: FastifyPluginAsyncTypebox<HistoryRoutesOptions> = async (
  app,
  { gateway, history },
) => {
  app.get(
    "/devices/:device/points/:point/history",
    {
      config: { role: "viewer" },
      schema: {
        summary: "Stored readings of a point over a time range, raw or downsampled for charts",
        tags: ["history"],
        params: PointParamsSchema,
        querystring: HistoryQuerySchema,
        response: {
          200: HistoryResponseSchema,
          ...errorResponses("TB_ERR_BAD_REQUEST", "TB_ERR_DEVICE_NOT_FOUND", "TB_ERR_POINT_NOT_FOUND"),
        },
      },
    },
    async (request) => {
      const { device, point } = request.params;
      const points =
        gateway.points(device) ??
        fail("TB_ERR_DEVICE_NOT_FOUND", [{ field: "params/device", message: `no device "${device}"` }]);
      if (!points.some((p) => p.id === point))
        fail("TB_ERR_POINT_NOT_FOUND", [
          { field: "params/point", message: `no point "${point}" on "${device}"` },
        ]);

      const q = request.query;
      const to = parseTime("to", q.to, Date.now());
      const from = parseTime("from", q.from, to - HOUR_MS);
      if (from > to)
        fail("TB_ERR_BAD_REQUEST", [{ field: "querystring/from", message: "must not be after `to`" }]);
      const bucketMs = q.bucket === undefined ? undefined : parseBucket(q.bucket);
      const result = await history
        .query(device, point, {
          from,
          to,
          limit: q.limit ?? 1_000,
          ...(bucketMs === undefined ? {} : { bucketMs }),
        })
        .catch((error: unknown) => {
          // The store's worker is down (it is restarted): say so, instead of a bare internal error.
          if (error instanceof HistoryUnavailable)
            fail("TB_ERR_INTERNAL", [{ field: "history", message: error.message }]);
          throw error;
        });
      const range = { device, point, from: new Date(from).toISOString(), to: new Date(to).toISOString() };
      return result.kind === "buckets"
        ? { ...range, bucketMs, truncated: result.truncated, buckets: result.buckets }
        : { ...range, truncated: result.truncated, samples: result.samples };
    },
  );
};
