/**
 * The http-json adapter: polls JSON documents over HTTP and picks each point's value with a
 * JSONPath. Polled: the core schedules reads, so this file owns no timers. Points sharing a URL
 * share one request per read.
 *
 * Errors and quality: a network failure (connection refused, reset, DNS) rejects read(), since the
 * device is unreachable, and the core reconnects; a URL that times out reads bad/`Timeout`, an HTTP
 * error status bad/`HTTP <status>`, a body that is not JSON bad/`NotJson`, a path that matches
 * nothing bad/`PathNotFound`. A value of the wrong type is passed on: the core marks TypeMismatch.
 */
import type { Adapter, AdapterContext, PointConfig, Sample } from "tagbridge/sdk";
import { type Client, type ClientFactory, type HttpResponse, RequestTimeout } from "./client.js";
import type { HttpJsonPointFields, HttpJsonSettings } from "./config.js";
import { select } from "./json-path.js";

/** A point as the adapter sees it: core fields plus `path` and `url`. */
export type HttpJsonPoint = PointConfig<HttpJsonPointFields>;

/** The context the core hands one instance. */
export type HttpJsonContext = AdapterContext<HttpJsonSettings, HttpJsonPointFields>;

/** Status of a point whose URL answered with a body that is not JSON. */
export const NOT_JSON = "NotJson";
/** Status of a point whose URL did not answer in time. */
export const TIMEOUT = "Timeout";

/** What one GET came to for the points reading it. */
type Outcome = { ok: true; doc: unknown } | { ok: false; status: string };

/** Creates an instance for one device. No I/O here: start() makes the first request. */
export function createHttpJson(
  ctx: HttpJsonContext,
  open: ClientFactory,
): Required<Pick<Adapter<HttpJsonPointFields>, "start" | "stop" | "read">> {
  const requests = ctx.metrics.counter("http_json_requests", "HTTP requests made.");
  let client: Client | undefined;
  let starting: Client | undefined;

  const urlOf = (point: HttpJsonPoint) =>
    point.url ? new URL(point.url, ctx.settings.url).href : ctx.settings.url;

  return {
    async start() {
      const next = open(ctx.settings);
      starting = next;
      try {
        // Any HTTP answer proves the device reachable; only a network failure or timeout fails start().
        requests.inc();
        const probe = await next.get(ctx.settings.url);
        if (starting !== next) throw new Error("stopped while connecting");
        ctx.log.debug({ status: probe.status }, "device answered");
      } catch (error) {
        await next.close();
        throw error;
      } finally {
        if (starting === next) starting = undefined;
      }
      client = next;
    },

    async stop() {
      const pending = starting;
      const current = client;
      starting = undefined;
      client = undefined;
      await Promise.all([pending?.close(), current?.close()]);
    },

    async read(points) {
      const current = client;
      if (!current) throw new Error("not connected");
      const urls = new Set(points.map(urlOf));
      const outcomes = new Map<string, Outcome>();
      const settled = await Promise.allSettled(
        [...urls].map(async (url) => {
          requests.inc();
          outcomes.set(url, outcomeOf(await current.get(url).catch(timeoutAsStatus)));
        }),
      );
      const failed = settled.find((s) => s.status === "rejected");
      if (failed) throw failed.reason; // a network failure: the device is unreachable
      return points.map((p) => toSample(p, outcomes.get(urlOf(p))!));
    },
  };
}

/** A timeout concerns one URL (a slow endpoint), so it becomes a status; other failures stay thrown. */
function timeoutAsStatus(error: unknown): Outcome {
  if (error instanceof RequestTimeout) return { ok: false, status: TIMEOUT };
  throw error;
}

function outcomeOf(response: HttpResponse | Outcome): Outcome {
  if ("ok" in response) return response;
  if (response.status < 200 || response.status > 299) return { ok: false, status: `HTTP ${response.status}` };
  try {
    return { ok: true, doc: JSON.parse(response.body) };
  } catch {
    return { ok: false, status: NOT_JSON };
  }
}

function toSample(point: HttpJsonPoint, outcome: Outcome): Sample {
  const bad = (status: string): Sample => ({ point: point.id, value: null, quality: "bad", status });
  if (!outcome.ok) return bad(outcome.status);
  const found = select(outcome.doc, point.path ?? "$", point.type.endsWith("[]"));
  if (!found.ok) return bad(found.status);
  return { point: point.id, value: found.value as Sample["value"] };
}
