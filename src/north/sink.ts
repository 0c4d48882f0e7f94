/**
 * The common sink runner: a bus consumer feeding one sink (a {@link Sink} of the SDK contract:
 * mqtt, sparkplug, nats or a package's), with the store-and-forward buffer between them. The sink
 * connects and publishes; everything else below is the runner's, the same for every sink.
 *
 * - While the sink is up (it reported `connected` through `ctx.setState`), the buffer is empty and the bus queue is less than half full,
 *   each bus batch is published directly and awaited (acknowledged per the sink's QoS).
 * - Otherwise (down, failed or timed-out publish, or not keeping up) the batch goes to the buffer,
 *   and as long as the buffer holds anything, live readings go to its tail: one FIFO, so the order
 *   per point (and overall) is the bus order, i.e. seq order.
 * - A separate drain loop publishes the backlog oldest-first while the sink is up, and
 *   removes each batch only after it was acknowledged: at-least-once. A publish that failed after
 *   reaching the server may be sent again; `seq` (and NATS msg ids) tell duplicates apart. It keeps
 *   a bounded window of pages out (replay.ts: the next one read, and on a `pipelined` sink
 *   sent, while the one before is acknowledged); acks are applied in page order.
 * - A sink that batches by size and time (`batching`, the MQTT sink's payload: batch) gets
 *   live readings through a {@link Batcher}: the consumer hands readings over without waiting,
 *   and one flush at a time publishes the batches that are full or have lingered; what arrives
 *   meanwhile keeps filling the next ones. Before anything is put in the buffer, the flush in
 *   flight settles (a failed one is buffered first) and the held readings follow it, so the buffer
 *   stays one FIFO in bus order per point. More than half a queue held waits for the flush, so a
 *   slow sink backs the bus queue up and diverts to the buffer as above.
 * - A stalled server (connected, but not taking or acknowledging anything) would hold a live
 *   publish until its timeout while the bus queue overflows. So a live publish still unsettled
 *   when the bus queue passes half its capacity (the bus says so at once, `onBehind`) is given
 *   up: a failed publish, its readings buffered, and the consumer free to divert what follows to
 *   the buffer. Nothing is dropped while the buffer has room; what the server still takes of the
 *   given-up publish arrives twice.
 */
import type { Logger } from "pino";
import Type, { type Static } from "typebox";
import type { Consumer, ReadingBus } from "../core/types.js";
import type { Reading } from "../schema/reading.js";
import type { Sink, SinkState } from "../sdk/sink.js";
import { type Batch, Batcher, countOf, readingsOf } from "./batcher.js";
import type { SinkBuffer } from "./buffer.js";
import { type CoreSinkConfig, NORTH_DEFAULTS } from "./config.js";
import { selectionOf } from "./context.js";
import { replay } from "./replay.js";

/** Status and counters of one sink, as `GET /api/v1/north` shows them. */
export const SinkStatusSchema = Type.Object(
  {
    id: Type.String({ description: "Sink id from config." }),
    type: Type.String({ description: "Sink type: mqtt, sparkplug, nats, or a sink package's type." }),
    connected: Type.Boolean({
      description: "True while the sink can publish (for Sparkplug: connected, born and allowed by STATE).",
    }),
    published: Type.Integer({ description: "Readings published and acknowledged since start." }),
    buffered: Type.Integer({ description: "Readings waiting in the store-and-forward buffer now." }),
    dropped: Type.Integer({
      description: "Readings lost since start: buffer size/age bounds plus bus queue overflow.",
    }),
    droppedForSize: Type.Integer({ description: "Dropped by the buffer's size bound (overflow policy)." }),
    droppedForAge: Type.Integer({ description: "Dropped by the buffer's age bound." }),
    droppedInQueue: Type.Integer({ description: "Dropped by the sink's in-memory bus queue overflowing." }),
    oldestBufferedAgeMs: Type.Union([Type.Integer(), Type.Null()], {
      description: "How long the oldest buffered reading has waited, in ms; null when the buffer is empty.",
    }),
    publishErrors: Type.Integer({
      description: "Failed or timed-out publishes (their readings were buffered).",
    }),
    lastError: Type.Optional(Type.String({ description: "The last connection or publish error." })),
  },
  { additionalProperties: false, description: "Status and counters of one north sink." },
);

/** Status and counters of one sink. */
export type SinkStatus = Static<typeof SinkStatusSchema>;

/** Dependencies of a runner. */
export interface RunnerDeps {
  bus: ReadingBus;
  buffer: SinkBuffer;
  /**
   * Creates the sink (`definition.create(ctx)`, see context.ts), given the `setState` of its
   * context, which reports to this runner. Called once, in the constructor.
   */
  create(setState: (state: SinkState, reason?: string) => void): Sink;
  log: Logger;
  now?: () => number;
}

const DRAIN_BATCH = 2_000;
/** Most readings read from the buffer at once by a batching sink (a few full batches). */
const DRAIN_BATCH_MAX = 20_000;
const CLOSE_WAIT_MS = 3_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Runs one sink: consumer, direct publishing, buffering and draining. */
export class SinkRunner {
  private consumer: Consumer | undefined;
  private readonly matches: (r: Reading) => boolean;
  private readonly selectsAll: boolean;
  private readonly capacity: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private draining: Promise<void> | undefined;
  private handling = false;
  private closing = false;
  private published = 0;
  private publishErrors = 0;
  private lastError: string | undefined;
  private readonly sink: Sink;
  /** What the sink last reported through `ctx.setState`. */
  private state: SinkState = "disconnected";
  private stateReason: string | undefined;
  private started = false;
  /** Set once `sink.stop()` is called: what the sink reports from then on is ignored. */
  private sinkStopped = false;
  /**
   * Fails publishes in flight (the value: a live one, not the drain's) when the sink goes
   * down or stalls, so that their readings are buffered at once.
   */
  private readonly inFlight = new Map<(reason: Error) => void, boolean>();
  /** Live readings waiting for their batch (batching sinks only). */
  private readonly batcher: Batcher | undefined;
  /** The publish of ready batches in flight, if any. */
  private flushing: Promise<void> | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private lingerDue = 0;
  private readonly drainBatch: number;

  constructor(
    private readonly config: CoreSinkConfig,
    private readonly deps: RunnerDeps,
  ) {
    this.selectsAll = !config.select?.devices?.length && !config.select?.points?.length;
    this.matches = selectionOf(config);
    this.capacity = config.queueCapacity ?? NORTH_DEFAULTS.queueCapacity;
    this.timeoutMs = config.publishTimeoutMs ?? NORTH_DEFAULTS.publishTimeoutMs;
    this.now = deps.now ?? Date.now;
    this.sink = deps.create((state, reason) => this.setState(state, reason));
    const batching = this.sink.batching;
    this.batcher = batching ? new Batcher(batching.policy) : undefined;
    this.drainBatch = batching
      ? Math.min(DRAIN_BATCH_MAX, Math.max(DRAIN_BATCH, batching.policy.maxReadings * 4))
      : DRAIN_BATCH;
  }

  /** Subscribes to the bus and starts the sink; a backlog from a previous run drains once up. */
  async start(): Promise<void> {
    this.started = true;
    this.consumer = this.deps.bus.subscribe({
      name: `north:${this.config.id}`,
      capacity: this.capacity,
      overflow: "drop-oldest",
      maxBatch: NORTH_DEFAULTS.maxBatch,
      handle: (batch) => this.handle(batch),
      onBehind: () => this.giveUpLive(),
    });
    await this.sink.start();
    this.kick();
  }

  /** True while the sink reports `connected` (and has not been stopped). */
  private get up(): boolean {
    return this.state === "connected";
  }

  /** The sink's `ctx.setState`: never throws. Going down fails the publishes in flight at once. */
  private setState(state: SinkState, reason?: string): void {
    if (this.sinkStopped) return; // a late reconnect must not show a closed sink as connected
    this.state = state === "connected" ? "connected" : "disconnected";
    this.stateReason = reason;
    if (!this.started) return;
    if (this.state !== "connected")
      for (const abort of this.inFlight.keys()) abort(new Error("connection lost while publishing"));
    this.kick();
  }

  status(): SinkStatus {
    const b = this.deps.buffer.stats();
    const droppedInQueue = this.consumer?.stats().dropped ?? 0;
    const s: SinkStatus = {
      id: this.config.id,
      type: this.config.type,
      connected: this.up,
      published: this.published + b.deliveredLate,
      buffered: b.buffered,
      dropped: b.droppedForSize + b.droppedForAge + droppedInQueue,
      droppedForSize: b.droppedForSize,
      droppedForAge: b.droppedForAge,
      droppedInQueue,
      oldestBufferedAgeMs: b.oldestAt === null ? null : Math.max(0, this.now() - b.oldestAt),
      publishErrors: this.publishErrors,
    };
    const err = this.lastError ?? this.stateReason;
    if (err !== undefined) s.lastError = err;
    return s;
  }

  /**
   * Stops: lets the bus queue empty into the buffer (bounded wait), stops draining, closes the
   * sink (`stop()`), syncs and closes the buffer. What is buffered is sent after the next start.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const deadline = this.now() + CLOSE_WAIT_MS;
    for (let i = 0; i < 300 && this.now() < deadline; i++) {
      if (!this.handling && (this.consumer?.stats().queued ?? 0) === 0) break;
      await sleep(10);
    }
    this.consumer?.close();
    await this.settleBatches();
    await Promise.race([this.draining, sleep(CLOSE_WAIT_MS)]);
    this.sinkStopped = true;
    await this.sink.stop();
    this.started = false;
    this.state = "disconnected";
    await this.deps.buffer.close();
  }

  private async handle(batch: Reading[]): Promise<void> {
    const selected = this.selectsAll ? batch : batch.filter(this.matches);
    if (selected.length === 0) return;
    const { buffer } = this.deps;
    const { sink } = this;
    const behind = (this.consumer?.stats().queued ?? 0) > this.capacity / 2;
    if (this.closing || buffer.size > 0 || this.draining || !this.up || behind) {
      if (this.batcher) await this.spill();
      buffer.append(selected);
      this.kick();
      return;
    }
    if (this.batcher) {
      this.batcher.add(selected, this.now());
      this.pump();
      if (this.flushing && this.batcher.size >= this.capacity / 2) await this.flushing;
      return;
    }
    this.handling = true;
    try {
      await this.publish(
        () => sink.publish(selected, { historical: false }),
        true,
        () => selected,
      );
      this.published += selected.length;
    } catch (error) {
      this.failed(error);
      buffer.append(selected);
      this.kick();
    } finally {
      this.handling = false;
    }
  }

  /** Starts the drain loop unless it runs. */
  private kick(): void {
    if (this.draining || this.closing || this.deps.buffer.size === 0 || !this.up) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      // Readings may have been buffered between the loop's last check and here.
      if (!this.closing) queueMicrotask(() => this.kick());
    });
  }

  private async drain(): Promise<void> {
    const { buffer, log } = this.deps;
    const { sink } = this;
    log.debug({ sink: this.config.id, buffered: buffer.size }, "north sink draining its buffer");
    // A live publish may still be in flight: wait so the backlog goes out after it, in order.
    for (let i = 0; i < 1000 && this.handling; i++) await sleep(5);
    if (this.batcher) await this.spill();
    await replay({
      buffer,
      pipelined: sink.pipelined === true,
      pageSize: this.drainBatch,
      replaying: () => !this.closing && this.up,
      send: (read) =>
        this.publish(
          () => sink.publish(read.readings, { historical: true }),
          false,
          () => read.readings,
        ),
      acked: (read) => {
        this.published += read.readings.length;
      },
      failed: (error) => this.failed(error),
    });
  }

  /**
   * Publishes the batches that are ready, one flush at a time; when none is, arms a timer for the
   * oldest group's linger. Anything that cannot be published directly goes to the buffer.
   */
  private pump(): void {
    const batcher = this.batcher;
    if (!batcher || this.flushing || this.closing || batcher.size === 0) return;
    const now = this.now();
    const ready = batcher.take(now);
    if (ready.length === 0) {
      const due = batcher.dueAt(now) ?? now;
      if (this.lingerTimer && this.lingerDue === due) return;
      clearTimeout(this.lingerTimer);
      this.lingerDue = due;
      this.lingerTimer = setTimeout(
        () => {
          this.lingerTimer = undefined;
          this.pump();
        },
        Math.max(0, due - now),
      );
      return;
    }
    this.flushing = this.flush(ready).finally(() => {
      this.flushing = undefined;
      this.pump();
    });
  }

  private async flush(batches: Batch[]): Promise<void> {
    const { buffer } = this.deps;
    const { sink } = this;
    if (buffer.size === 0 && !this.draining && this.up && sink.batching) {
      const { batching } = sink;
      try {
        await this.publish(
          () => batching.publish(batches, { historical: false }),
          true,
          () => readingsOf(batches),
        );
        this.published += countOf(batches);
        if (batching.released?.() === true) this.batcher?.recycle(batches);
        return;
      } catch (error) {
        this.failed(error);
      }
    }
    // Failed, or the buffer took over meanwhile: these readings, then the held ones, go to it.
    buffer.append(readingsOf(batches));
    this.moveHeld();
    this.kick();
  }

  /** Waits for the flush in flight, then moves the held readings to the buffer (its tail). */
  private async spill(): Promise<void> {
    while (this.flushing) await this.flushing;
    this.moveHeld();
  }

  private moveHeld(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (!this.batcher || this.batcher.size === 0) return;
    this.deps.buffer.append(readingsOf(this.batcher.take(this.now(), true)));
  }

  /** On close: publishes what is held if the sink is up and has no backlog, else buffers it. */
  private async settleBatches(): Promise<void> {
    if (!this.batcher) return;
    while (this.flushing) await this.flushing;
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (this.batcher.size > 0) await this.flush(this.batcher.take(this.now(), true));
  }

  /** Gives up the live publishes in flight: the bus queue has passed half its capacity. */
  private giveUpLive(): void {
    if (this.inFlight.size === 0) return;
    const stalled = new Error("publish not acknowledged while the bus queue filled past half its capacity");
    for (const [abort, live] of this.inFlight) if (live) abort(stalled);
  }

  /**
   * Runs `send` with the publish timeout, failing at once if the connection drops meanwhile (or,
   * for a `live` publish, if the sink stalls). The caller counts what was published.
   */
  private async publish(
    send: () => Promise<void>,
    live = true,
    readings?: () => readonly Reading[],
  ): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let abort = (_: Error) => {};
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`publish not acknowledged within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      abort = reject;
    });
    this.inFlight.set(abort, live);
    const sent = send();
    try {
      await Promise.race([sent, timeout]);
    } catch (error) {
      // Given up (timeout, connection lost), but the client may still deliver it (MQTT QoS 1 is
      // resent on reconnect): then its buffered copies are not lost if the buffer drops them, and
      // count as published (`deliveredLate`); copies still buffered count when sent again.
      const given = readings?.();
      if (given) this.deps.buffer.uncertainDelivery(given);
      sent.then(
        () => {
          if (given) this.deps.buffer.settled(given, true);
        },
        () => {
          if (given) this.deps.buffer.settled(given, false);
        },
      );
      throw error;
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(abort);
    }
  }

  private failed(error: unknown): void {
    this.publishErrors++;
    const message = error instanceof Error ? error.message : String(error);
    if (message !== this.lastError)
      this.deps.log.warn({ sink: this.config.id, err: message }, "north publish failed; buffering");
    this.lastError = message;
  }
}
