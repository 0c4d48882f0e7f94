/**
 * The http-webhook sink: POSTs JSON arrays of Readings, one request per batch, and counts a batch
 * delivered only on an HTTP 2xx whose whole answer arrived (capability `ack`). Replayed batches
 * carry `tagbridge-historical: true` (capability `replay`). The core batches live readings by the
 * policy from the settings (capability `batch`) and hands them over already encoded.
 *
 * Reachability: a connection error, a timeout, a 5xx, 408 or 429 reports `disconnected` and starts
 * probing the URL (`probe.method`), first after `probe.minMs`, then doubling up to `probe.maxMs`
 * (at least `Retry-After` when the endpoint sends one), until an answer below 500 reports
 * `connected` again. While disconnected the core publishes nothing and buffers. Other 4xx answers
 * reject the publish (the readings stay buffered) but leave the sink connected: the endpoint is up,
 * it refuses this request.
 */
import { readFile } from "node:fs/promises";
import type { Reading, Sink, SinkBatchPolicy, SinkContext, SinkState } from "tagbridge/sdk";
import { type Client, openClient } from "./client.js";
import { WEBHOOK_DEFAULTS, type WebhookSettings } from "./config.js";

/** The context the core hands one instance. */
export type WebhookContext = SinkContext<WebhookSettings>;

/** Makes the HTTP client for the URL; the seam a unit test may replace. */
export type ClientFactory = (url: URL, ca?: string) => Client;

/** Longest stop() waits for requests in flight to be answered before it cuts them. */
const STOP_WAIT_MS = 2_000;
const ok = (status: number) => status >= 200 && status < 300;
/** Answers saying "not now" rather than "not this": the endpoint counts as unreachable. */
const transient = (status: number) => status >= 500 || status === 408 || status === 429;

/** Creates one instance. No I/O here: the first probe runs in start(). */
export function createWebhook(ctx: WebhookContext, open: ClientFactory = openClient): Sink {
  const settings = ctx.settings;
  const url = new URL(settings.url);
  /** The URL as logs and errors show it: no credentials, no query (either may hold a secret). */
  const shown = `${url.origin}${url.pathname}`;
  const timeoutMs = settings.requestTimeoutMs ?? WEBHOOK_DEFAULTS.requestTimeoutMs;
  const probe = { ...WEBHOOK_DEFAULTS.probe, ...settings.probe };
  const batch = { ...WEBHOOK_DEFAULTS.batch, ...settings.batch };
  const policy: SinkBatchPolicy = { ...batch, encoding: "readings" };
  /** Set by stop(): no new request or probe. */
  let closing = false;
  /** Aborted by stop() once its wait is over: cuts the POSTs still open. */
  const cutter = new AbortController();
  /** Aborted by stop() at once: a probe is not worth waiting for. */
  const probeCutter = new AbortController();
  /** POSTs in flight: stop() waits for them, and their payloads are referenced until they end. */
  const inFlight = new Set<Promise<unknown>>();
  const requests = ctx.metrics.counter("requests", "Requests sent to the webhook (probes included).");
  const failures = ctx.metrics.counter("failed_requests", "Requests that failed or were refused.");
  let client: Client | undefined;
  let state: SinkState | undefined;
  let reason: string | undefined;
  let probing = false;
  let nextDelay: number = probe.minMs;
  let timer: NodeJS.Timeout | undefined;
  let stopped: Promise<void> | undefined;

  const report = (next: SinkState, why?: string) => {
    if (closing || (next === state && why === reason)) return;
    if (next !== state) {
      if (next === "connected") ctx.log.info({ url: shown }, "webhook reachable");
      else ctx.log.warn({ url: shown, reason: why }, "webhook unreachable; probing with backoff");
    }
    state = next;
    reason = why;
    ctx.setState(next, why);
  };

  /** Sends one request, counted; a POST is tracked so stop() can wait for it. */
  const send = (method: string, body?: Buffer, headers: Record<string, string> = {}) => {
    requests.inc();
    const p = (async () => {
      client ??= open(url, settings.tls?.caFile ? await readCa(settings.tls.caFile) : undefined);
      return client.send({
        method,
        headers: { ...settings.headers, ...headers },
        ...(body ? { body } : {}),
        timeoutMs,
        signal: body ? cutter.signal : probeCutter.signal,
      });
    })();
    if (!body) return p;
    inFlight.add(p);
    void p.then(
      () => inFlight.delete(p),
      () => inFlight.delete(p),
    );
    return p;
  };

  /** Marks the endpoint unreachable and starts probing, unless a probe loop already runs. */
  const unreachable = (why: string, retryAfterMs = 0) => {
    report("disconnected", why);
    if (probing || closing) return;
    probing = true;
    nextDelay = probe.minMs;
    schedule(retryAfterMs);
  };

  const schedule = (retryAfterMs: number) => {
    const wait = Math.min(probe.maxMs, Math.max(nextDelay, retryAfterMs));
    nextDelay = Math.min(probe.maxMs, nextDelay * 2);
    timer = setTimeout(() => void runProbe(), wait);
  };

  async function runProbe(): Promise<void> {
    timer = undefined;
    if (closing) return;
    let why: string;
    let retryAfterMs = 0;
    try {
      const answer = await send(probe.method);
      if (!transient(answer.status)) {
        probing = false;
        report("connected");
        return;
      }
      why = `HTTP ${answer.status} to ${probe.method}`;
      retryAfterMs = answer.retryAfterMs ?? 0;
    } catch (error) {
      why = describe(error);
    }
    failures.inc();
    if (closing) return;
    ctx.log.debug({ url: shown, reason: why, nextMs: nextDelay }, "probe failed");
    report("disconnected", why);
    schedule(retryAfterMs);
  }

  /** POSTs one body; resolves on a complete 2xx answer, rejects otherwise. */
  const post = async (body: Buffer, count: number, historical: boolean, key = "") => {
    if (closing) throw new Error("http-webhook sink stopped");
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "tagbridge-historical": String(historical),
      "tagbridge-count": String(count),
      "tagbridge-gateway": ctx.gateway,
      "tagbridge-sink": ctx.sink,
      ...(key ? { "tagbridge-device": key } : {}),
    };
    let answer: Awaited<ReturnType<typeof send>>;
    try {
      answer = await send("POST", body, headers);
    } catch (error) {
      failures.inc();
      const why = describe(error);
      if (!closing) unreachable(why);
      throw new Error(`POST ${shown}: ${why}`);
    }
    if (ok(answer.status)) return;
    failures.inc();
    const why = `HTTP ${answer.status}${answer.excerpt ? `: ${answer.excerpt.slice(0, 200)}` : ""}`;
    if (transient(answer.status)) unreachable(`HTTP ${answer.status}`, answer.retryAfterMs);
    else ctx.log.warn({ url: shown, status: answer.status }, "webhook refused a batch; it stays buffered");
    throw new Error(`POST ${shown}: ${why}`);
  };

  return {
    async start() {
      if (probing || closing) return;
      probing = true;
      void runProbe();
    },

    stop() {
      stopped ??= (async () => {
        closing = true; // no new request, no new probe; POSTs in flight may finish
        clearTimeout(timer);
        probeCutter.abort();
        const waiting = [...inFlight];
        const wait = new Promise<void>((resolve) => {
          const cut = setTimeout(resolve, Math.min(timeoutMs, STOP_WAIT_MS));
          void Promise.allSettled(waiting).then(() => {
            clearTimeout(cut);
            resolve();
          });
        });
        await wait;
        cutter.abort(); // cuts what is still open: those publishes reject
        client?.close();
        await Promise.allSettled(waiting);
      })();
      return stopped;
    },

    async publish(readings: readonly Reading[], { historical }) {
      for (const chunk of chunks(readings, batch.maxReadings, batch.maxBytes))
        await post(chunk.body, chunk.count, historical);
    },

    batching: {
      policy,
      async publish(batches, { historical }) {
        // One after another: the endpoint sees the batches, and so each device's readings, in order.
        for (const b of batches) await post(b.payload, b.count, historical, b.key);
      },
      released: () => inFlight.size === 0,
    },
  };
}

/** Splits readings into JSON array bodies of at most `maxReadings` and (but for one large reading) `maxBytes`. */
export function chunks(readings: readonly Reading[], maxReadings: number, maxBytes: number) {
  const out: { body: Buffer; count: number }[] = [];
  let parts: string[] = [];
  let bytes = 2;
  const close = () => {
    if (parts.length > 0) out.push({ body: Buffer.from(`[${parts.join(",")}]`), count: parts.length });
    parts = [];
    bytes = 2;
  };
  for (const r of readings) {
    const json = JSON.stringify(r);
    const size = Buffer.byteLength(json) + (parts.length > 0 ? 1 : 0);
    if (parts.length > 0 && (parts.length >= maxReadings || bytes + size > maxBytes)) close();
    parts.push(json);
    bytes += Buffer.byteLength(json) + (parts.length > 1 ? 1 : 0);
  }
  close();
  return out;
}

async function readCa(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new Error(`cannot read tls.caFile ${file}: ${describe(error)}`);
  }
}

/** A short reason for an error: its message, else its code (a refused dual-stack connect has no message). */
function describe(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: { message?: string }[] };
  return e?.message || e?.errors?.[0]?.message || e?.code || String(error);
}
