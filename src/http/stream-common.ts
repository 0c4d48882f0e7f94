/**
 * What the WebSocket and SSE streams share: one bus consumer per client, fed the latest values first,
 * and a bound on what a slow client may have buffered before batches are dropped for it.
 */
import { Counter, type Registry } from "prom-client";
import type { Consumer, ReadingBus, ReadingFilter } from "../core/types.js";
import type { Reading } from "../schema/reading.js";
import { fail } from "./errors.js";

/** The two streaming transports. */
export type Transport = "ws" | "sse";

/** Tuning of the streams. */
export interface StreamOptions {
  /** Queue bound, in readings, of each client's bus consumer (overflow drops the oldest). */
  capacity: number;
  /** Interval of SSE `: keepalive` comments and WebSocket pings, in ms. */
  keepaliveMs: number;
  /** Bytes a client may have unsent before further batches are dropped for it. */
  maxBufferedBytes: number;
  /** Counts readings dropped for a slow client. */
  dropped: (transport: Transport, readings: number) => void;
  /** Most stream clients (WebSocket and SSE together) at once. */
  maxClients: number;
}

/** One open stream: whose it is and how to end it. */
interface OpenStream {
  /** Token name of the client; `anonymous` for an anonymous loopback viewer. */
  owner: string | undefined;
  end: () => void;
}

/**
 * Open stream clients, shared by both transports of one app. A slot is taken only once a stream has
 * really started (WebSocket upgraded, SSE headers sent) and is given back exactly once when it ends;
 * {@link StreamSlots.endOwnedBy} ends every stream of a revoked token.
 */
export class StreamSlots {
  private readonly open = new Set<OpenStream>();

  constructor(private readonly max: number) {}

  /** Streams open now. */
  get size(): number {
    return this.open.size;
  }

  /** Answers 503 TB_ERR_TOO_MANY_STREAMS when no slot is free, without taking one. */
  check(): void {
    if (this.open.size >= this.max)
      fail("TB_ERR_TOO_MANY_STREAMS", [
        { field: "request", message: `${this.max} stream clients are connected` },
      ]);
  }

  /**
   * Takes a slot for a started stream, or throws like {@link check}. `end` closes the stream; its
   * close handler must call the returned release (calling it again is harmless).
   */
  take(owner: string | undefined, end: () => void): () => void {
    this.check();
    const entry: OpenStream = { owner, end };
    this.open.add(entry);
    return () => {
      this.open.delete(entry);
    };
  }

  /** Ends every open stream of the token named `owner`; returns how many. */
  endOwnedBy(owner: string): number {
    let ended = 0;
    for (const entry of [...this.open]) {
      if (entry.owner !== owner) continue;
      this.open.delete(entry);
      entry.end();
      ended++;
    }
    return ended;
  }
}

const DROPPED_METRIC = "tagbridge_http_stream_dropped_readings_total";

/** A drop counter on `registry` (reused when an app was already built on it); a no-op without one. */
export function streamDropCounter(registry?: Registry): StreamOptions["dropped"] {
  if (!registry) return () => {};
  const existing = registry.getSingleMetric(DROPPED_METRIC);
  const counter =
    existing instanceof Counter
      ? (existing as Counter<"transport">)
      : new Counter({
          name: DROPPED_METRIC,
          help: "Readings not sent to a WebSocket or SSE client because it had too much unsent data buffered.",
          labelNames: ["transport"],
          registers: [registry],
        });
  return (transport, readings) => counter.inc({ transport }, readings);
}

/** What a stream sends to its client. */
export interface StreamSink {
  /** Sends a batch of readings; returns false when the client had too much buffered and it was dropped. */
  readings(batch: Reading[]): boolean;
  /** Tells the client that `count` readings were dropped for it since the last notice. */
  dropped(count: number): void;
}

/**
 * Subscribes a client to the bus and, unless `snapshot` is false, hands it the current latest values
 * as its first batch. Both happen in one synchronous step, so no reading published in between is lost
 * or duplicated: the consumer only delivers on a later tick. Readings dropped for the client, by its
 * bus queue or because it read too slowly, are announced before the next batch it does receive.
 */
export function openReadingStream(
  bus: ReadingBus,
  client: { name: string; filter: ReadingFilter; capacity: number; snapshot: boolean },
  sink: StreamSink,
): Consumer {
  let announced = 0;
  let unsent = 0;
  const consumer = bus.subscribe({
    name: client.name,
    filter: client.filter,
    capacity: client.capacity,
    overflow: "drop-oldest",
    handle: (batch) => {
      const lost = consumer.stats().dropped + unsent - announced;
      if (lost > 0) {
        sink.dropped(lost);
        announced += lost;
      }
      if (sink.readings(batch)) return;
      unsent += batch.length;
      // Lost on the way to this client like a queue drop: counted on each reading's device too.
      for (const r of batch) bus.drops.add(r.device, client.name);
    },
  });
  if (client.snapshot) sink.readings(bus.latest(client.filter));
  return consumer;
}

/**
 * Sends `batch` unless the client already has more than the bound buffered; then the batch is dropped
 * and counted. Dropping here (instead of letting the socket buffer grow) keeps one stalled client from
 * holding the gateway's memory. Returns whether it was sent.
 */
export function sendBounded(
  buffered: number,
  batch: readonly Reading[],
  options: Pick<StreamOptions, "maxBufferedBytes" | "dropped">,
  transport: Transport,
  send: () => void,
): boolean {
  if (buffered > options.maxBufferedBytes) {
    options.dropped(transport, batch.length);
    return false;
  }
  send();
  return true;
}

/** Bus consumer name of a client, e.g. `ws:127.0.0.1:53211`, as shown in consumer stats. */
export function clientName(transport: Transport, ip: string, port: number | undefined): string {
  return `${transport}:${ip}:${port ?? 0}`;
}
