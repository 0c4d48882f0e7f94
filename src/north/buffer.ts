/**
 * The durable store-and-forward buffer of one north sink: a SQLite file in WAL mode
 * (`<dataDir>/north/<id>.sqlite`) holding Readings as JSON rows in arrival order. The file is
 * owned by a worker thread ({@link BufferWorker}): commits, fsyncs, page reads and deletes never
 * run on the main event loop, which acquisition owns. The main thread keeps every row's id,
 * buffering time and size in memory, so the bounds, the counters and `size` are decided at once,
 * synchronously, without asking the file.
 *
 * What is durable when:
 * - `append()` only puts readings in memory (`pending`). Every `syncIntervalMs`, and at once when
 *   pending holds more than 4 MiB, `sync()` hands them to the worker, which commits them in one
 *   transaction with `synchronous = FULL` (fsynced to the WAL file). One commit is in flight at a
 *   time (the queue to the worker is bounded); what arrives meanwhile goes with the next one. A
 *   kill -9 or a power cut loses at most the readings not yet committed (about `syncIntervalMs`
 *   of them), never a committed one, and never corrupts the file.
 * - Acknowledged readings are removed by advancing an in-memory cursor (`ackedThrough`); the
 *   DELETE goes with the next commit. A crash between the two re-sends them after the restart:
 *   at-least-once, `seq` tells duplicates apart.
 * - `read()` commits what is pending unless the file alone fills the page, then pages from the
 *   file in the worker (posted after that commit, so it sees it).
 *
 * Bounds: `maxBytes` counts the JSON of buffered readings (the file is larger by SQLite's
 * overhead); beyond it drop-oldest advances the cursor past the oldest rows, drop-newest refuses
 * the incoming readings. Readings older than `maxAgeMs` (by the time they were buffered) are
 * dropped at each sync. Every dropped reading is counted, exactly: a row dropped while a `read()`
 * holding it is being published (a replay has up to a few reads out) is counted back when that read
 * is acknowledged, or reported delivered out of turn (it did arrive).
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "pino";
import type { Reading } from "../schema/reading.js";
import { Rows } from "./buffer-rows.js";
import { BufferWorker, type OpenReply, type PageReply } from "./buffer-worker.js";

/** Options of {@link SinkBuffer.open}. */
export interface BufferOptions {
  maxBytes: number;
  maxAgeMs: number;
  overflow: "drop-oldest" | "drop-newest";
  /** 0: no timer (the owner calls `sync()`). */
  syncIntervalMs: number;
  log: Logger;
  now?: () => number;
  /**
   * Told of every reading the bounds dropped that is lost for good, with its device: at once, or for
   * a reading dropped while a publish of it was out, once that publish failed (a delivered one is
   * not lost). The sum over devices equals `droppedForSize + droppedForAge`.
   */
  onLost?: (device: string) => void;
}

/** Counters of a buffer. */
export interface BufferStats {
  /** Readings buffered now (committed and pending). */
  buffered: number;
  /** JSON bytes of the buffered readings. */
  bytes: number;
  /** Epoch ms when the oldest buffered reading was buffered; null when empty. */
  oldestAt: number | null;
  droppedForSize: number;
  droppedForAge: number;
  /** Readings appended since open. */
  appended: number;
  /** Readings committed to the file by the last commit (highest seq); null before the first. */
  syncedSeq: number | null;
  /** Failed commits (disk errors); their readings stay pending and are retried. */
  errors: number;
  /**
   * Readings a given-up publish delivered after all whose buffered copy was dropped rather than
   * sent again: published, though no publish of the runner was acknowledged for them.
   */
  deliveredLate: number;
}

/** A read batch and what to pass to `ack` once it has been delivered. */
export interface BufferRead {
  readings: Reading[];
  /** Id of its last row: `ack` removes through it; a following `read` may start after it. */
  through: number;
}

/** A read being published: its rows (from, through], and those of them dropped meanwhile, by cause. */
interface ReadInFlight {
  from: number;
  through: number;
  size: number;
  age: number;
  /** Devices of its rows dropped meanwhile: lost unless the read is delivered. */
  lost?: string[];
}

interface PendingRow {
  id: number;
  at: number;
  body: string;
  seq: number;
}

const PENDING_SYNC_BYTES = 4 * 1024 * 1024;
/** Rows parsed between yields to the event loop when a page is read. */
const PARSE_SLICE = 1_000;

/** Durable FIFO of Readings with size and age bounds; its file lives in a worker thread. */
export class SinkBuffer {
  private readonly rows = new Rows();
  private pending: PendingRow[] = [];
  private pendingBytes = 0;
  private nextId: number;
  private ackedThrough = 0;
  private deletedThrough = 0;
  private droppedForSize = 0;
  private droppedForAge = 0;
  private appended = 0;
  private errors = 0;
  private deliveredLate = 0;
  private syncedSeq: number | null = null;
  private closed = false;
  /** The commit in flight in the worker, if any; at most one. */
  private committing: Promise<void> | undefined;
  private syncAgain = false;
  /** Rows of the commit in flight. */
  private inCommit = 0;
  /**
   * The reads being published, oldest first (a replay may have a few pages out at once): rows of
   * them dropped meanwhile are counted back if the read is acked, since they did arrive.
   */
  private reads: ReadInFlight[] = [];
  /** Seqs of buffered readings that a given-up publish delivered after all: not lost if dropped. */
  private readonly lateDelivered = new Set<number>();
  /** Seqs of a given-up publish still unsettled (the client may deliver it yet). */
  private readonly uncertain = new Set<number>();
  /** Those of them dropped meanwhile, by cause: counted back if the publish delivers them. */
  private readonly droppedUncertain = new Map<number, { why: "size" | "age"; device: string }>();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  private constructor(
    private readonly worker: BufferWorker,
    opened: OpenReply,
    private readonly metaValues: Map<string, string>,
    private readonly options: BufferOptions,
  ) {
    this.now = options.now ?? Date.now;
    let last = 0;
    for (let i = 0; i < opened.ids.length; i++) {
      this.rows.push(opened.ids[i]!, opened.ats[i]!, opened.lengths[i]!);
      last = opened.ids[i]!;
    }
    this.nextId = last + 1;
    this.ackedThrough = (this.rows.firstId() ?? this.nextId) - 1;
    this.deletedThrough = this.ackedThrough;
    if (options.syncIntervalMs > 0) {
      this.timer = setInterval(() => this.sync(), options.syncIntervalMs);
      this.timer.unref();
    }
  }

  /** Opens or creates the file (and its directory) in a new worker. A restart finds what was committed. */
  static async open(file: string, options: BufferOptions): Promise<SinkBuffer> {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const worker = new BufferWorker(file);
    try {
      const opened = await worker.request<OpenReply>({ op: "open" });
      return new SinkBuffer(worker, opened, new Map(Object.entries(opened.meta)), options);
    } catch (error) {
      await worker.terminate();
      throw error;
    }
  }

  /** Readings buffered now. */
  get size(): number {
    return this.rows.length;
  }

  /** Readings buffered after the row `through` of a read (all of them without it). */
  sizeAfter(through?: number): number {
    return through === undefined ? this.rows.length : this.rows.countAfter(through);
  }

  /** Buffers readings (in memory until the next sync), applying the size bound. */
  append(readings: readonly Reading[]): void {
    if (this.closed) return;
    const at = this.now();
    for (const r of readings) {
      const body = JSON.stringify(r);
      const n = body.length;
      const over = this.rows.bytes + n - this.options.maxBytes;
      if (over > 0) {
        if (this.options.overflow === "drop-newest" || n > this.options.maxBytes) {
          this.droppedForSize++;
          this.options.onLost?.(r.device);
          continue;
        }
        this.dropOldest(over);
      }
      const id = this.nextId++;
      this.rows.push(id, at, n, r.seq, r.device);
      this.pending.push({ id, at, body, seq: r.seq });
      this.pendingBytes += n;
      this.appended++;
    }
    if (this.pendingBytes > PENDING_SYNC_BYTES) this.sync();
  }

  /**
   * Up to `limit` of the oldest readings, in arrival order; nothing is removed until `ack`. With
   * `after` (the `through` of a read still being published), the page that follows it instead:
   * a replay reads its next page while the current one is out, and acks them in order.
   */
  async read(limit: number, after?: number): Promise<BufferRead> {
    // A read from the oldest row starts over: reads not acknowledged were not delivered, their
    // dropped rows stay dropped.
    if (after === undefined) this.abandon(this.reads.splice(0));
    const from = Math.max(after ?? 0, this.ackedThrough);
    // Rows already in the file (not pending, not in the commit in flight) may fill the page alone;
    // otherwise commit what is pending now. The worker answers in order, so a page posted after a
    // commit sees it: no need to wait for that commit, nor for what arrives after this call.
    if (this.rows.countAfter(from) - this.pending.length - this.inCommit < limit) {
      if (this.committing) await this.committing;
      this.sync();
    }
    if (this.closed) return { readings: [], through: from };
    const page = await this.worker.request<PageReply>({ op: "page", after: from, limit });
    // Rows dropped while the page was read are counted as dropped already: not sent.
    const floor = Math.max(from, this.ackedThrough);
    const readings: Reading[] = [];
    // Tracked while it is parsed: a row dropped after it was parsed is sent, and counted back on ack.
    const read: ReadInFlight = { from: floor, through: floor, size: 0, age: 0 };
    this.reads.push(read);
    for (let i = 0; i < page.ids.length; i++) {
      // A large page parsed in one go would hold the event loop (polls, the API) for tens of ms.
      if (i > 0 && i % PARSE_SLICE === 0) await new Promise<void>((r) => setImmediate(r));
      const id = page.ids[i]!;
      // Dropped (or acked) while this page was read or parsed: counted already, not sent.
      if (id <= read.through || id <= this.ackedThrough) continue;
      readings.push(JSON.parse(page.bodies[i]!) as Reading);
      read.through = id;
    }
    if (readings.length === 0) this.reads.splice(this.reads.indexOf(read), 1);
    return { readings, through: read.through };
  }

  /** Removes what a `read` returned, and what came before it (the DELETE is committed by the next sync). */
  ack(read: BufferRead): void {
    if (this.closed) return;
    // Dropped while being published, but delivered: not lost after all.
    const done = this.untrack(read);
    if (done) {
      this.droppedForSize -= done.size;
      this.droppedForAge -= done.age;
    }
    while (this.rows.length > 0 && this.rows.firstId()! <= read.through) this.shiftRow();
    this.ackedThrough = Math.max(this.ackedThrough, read.through);
  }

  /**
   * A read that was delivered although one before it was not, so it cannot be acked (the buffer is
   * one FIFO): its rows stay and are sent again after the earlier ones, but those of them dropped
   * meanwhile, or dropped before they are sent again, did arrive and are not counted as dropped.
   */
  deliveredOutOfTurn(read: BufferRead): void {
    if (this.closed) return;
    const done = this.untrack(read);
    if (done) {
      this.droppedForSize -= done.size;
      this.droppedForAge -= done.age;
      this.deliveredLate += done.size + done.age;
    }
    // Its rows still buffered are its newest ones (rows are only ever dropped from the head).
    const kept = Math.min(read.readings.length, this.rows.length - this.rows.countAfter(read.through));
    for (let i = read.readings.length - kept; i < read.readings.length; i++)
      this.lateDelivered.add(read.readings[i]!.seq);
  }

  /** Stops tracking a read (and any before it, which can no longer be acked); returns it. */
  private untrack(read: BufferRead): ReadInFlight | undefined {
    const i = this.reads.findIndex((r) => r.through === read.through);
    if (i < 0) return undefined;
    const [done, ...before] = this.reads.splice(0, i + 1).reverse();
    this.abandon(before);
    return done;
  }

  /** Reads that can no longer be delivered: their dropped rows are lost. */
  private abandon(reads: readonly ReadInFlight[]): void {
    const { onLost } = this.options;
    if (onLost) for (const r of reads) for (const device of r.lost ?? []) onLost(device);
  }

  /** Readings of a publish given up but still unsettled: the client may deliver them yet. */
  uncertainDelivery(readings: readonly Reading[]): void {
    for (const r of readings) this.uncertain.add(r.seq);
  }

  /** The given-up publish settled: `arrived` tells whether it delivered them after all. */
  settled(readings: readonly Reading[], arrived: boolean): void {
    for (const r of readings) {
      this.uncertain.delete(r.seq);
      const dropped = this.droppedUncertain.get(r.seq);
      if (dropped !== undefined) {
        this.droppedUncertain.delete(r.seq);
        if (!arrived) {
          this.options.onLost?.(dropped.device);
          continue;
        }
        this.deliveredLate++;
        if (dropped.why === "size") this.droppedForSize--;
        else this.droppedForAge--;
      } else if (arrived && this.rows.length > 0) this.lateDelivered.add(r.seq);
    }
  }

  /**
   * Hands pending readings and removals to the worker (committed there, fsynced) and drops
   * readings older than maxAgeMs. Returns at once; one commit is in flight at a time.
   */
  sync(): void {
    if (this.closed) return;
    this.dropAged();
    if (this.committing) {
      this.syncAgain = true;
      return;
    }
    const rows = this.pending;
    if (rows.length === 0 && this.ackedThrough <= this.deletedThrough) return;
    this.pending = [];
    this.pendingBytes = 0;
    this.inCommit = rows.length;
    const deleteThrough = this.ackedThrough;
    this.committing = this.worker
      .request<void>({
        op: "commit",
        ids: rows.map((r) => r.id),
        ats: rows.map((r) => r.at),
        bodies: rows.map((r) => r.body),
        deleteThrough: deleteThrough > this.deletedThrough ? deleteThrough : 0,
        vacuum: this.rows.length === 0,
      })
      .then(
        () => {
          this.deletedThrough = Math.max(this.deletedThrough, deleteThrough);
          const last = rows.at(-1);
          if (last) this.syncedSeq = last.seq;
        },
        (error: unknown) => {
          this.errors++;
          this.options.log.error({ err: error }, "north buffer commit failed; readings kept in memory");
          // Back in front of what arrived meanwhile, minus what was acked or dropped since.
          const keep = rows.filter((r) => r.id > this.ackedThrough);
          this.pending = keep.concat(this.pending);
          for (const r of keep) this.pendingBytes += r.body.length;
        },
      )
      .finally(() => {
        this.committing = undefined;
        this.inCommit = 0;
        if (this.syncAgain) {
          this.syncAgain = false;
          this.sync();
        }
      });
  }

  /** Resolves once everything appended so far has been committed (or its commit failed). */
  async flush(): Promise<void> {
    for (let i = 0; i < 100 && !this.closed; i++) {
      if (this.committing) {
        await this.committing;
        continue;
      }
      if (this.pending.length === 0 && this.ackedThrough <= this.deletedThrough) return;
      this.sync();
      if (!this.committing) return;
    }
  }

  /** A small persistent value of the sink (e.g. the Sparkplug bdSeq), kept in memory too. */
  meta(key: string): string | undefined {
    return this.metaValues.get(key);
  }

  /** Stores it; the worker commits it before anything posted later. */
  setMeta(key: string, value: string): void {
    this.metaValues.set(key, value);
    if (this.closed) return;
    this.worker.request({ op: "setMeta", key, value }).catch((error: unknown) => {
      this.errors++;
      this.options.log.error({ err: error, key }, "north buffer could not store a meta value");
    });
  }

  stats(): BufferStats {
    return {
      buffered: this.size,
      bytes: this.rows.bytes,
      oldestAt: this.rows.firstAt() ?? null,
      droppedForSize: this.droppedForSize,
      droppedForAge: this.droppedForAge,
      appended: this.appended,
      syncedSeq: this.syncedSeq,
      errors: this.errors,
      deliveredLate: this.deliveredLate,
    };
  }

  /** Commits and closes; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    this.closed = true;
    this.abandon(this.reads.splice(0));
    await this.worker.request({ op: "close" }).catch(() => undefined);
    await this.worker.terminate();
  }

  /** Removes the oldest row from the accounting (acked or dropped). */
  private shiftRow(): void {
    const id = this.rows.firstId()!;
    if (this.lateDelivered.size > 0) this.lateDelivered.delete(this.rows.firstSeq());
    if (this.uncertain.size > 0) this.uncertain.delete(this.rows.firstSeq());
    this.rows.shift();
    this.ackedThrough = id;
    const p = this.pending[0];
    if (p && p.id <= id) {
      this.pending.shift();
      this.pendingBytes -= p.body.length;
    }
  }

  private drop(why: "size" | "age"): void {
    const id = this.rows.firstId()!;
    const seq = this.rows.firstSeq();
    const device = this.rows.firstDevice();
    const arrived = this.lateDelivered.has(seq);
    const uncertain = !arrived && this.uncertain.has(seq);
    if (uncertain) this.droppedUncertain.set(seq, { why, device });
    this.shiftRow();
    if (arrived) {
      this.deliveredLate++;
      return;
    }
    if (why === "size") this.droppedForSize++;
    else this.droppedForAge++;
    for (const r of this.reads)
      if (id > r.from && id <= r.through) {
        r[why]++;
        if (!uncertain) {
          r.lost ??= [];
          r.lost.push(device);
        }
        return;
      }
    if (!uncertain) this.options.onLost?.(device);
  }

  /** Frees at least `bytes`, oldest first. */
  private dropOldest(bytes: number): void {
    let freed = 0;
    while (freed < bytes && this.rows.length > 0) {
      freed += this.rows.firstN();
      this.drop("size");
    }
  }

  private dropAged(): void {
    const cutoff = this.now() - this.options.maxAgeMs;
    while (this.rows.length > 0 && this.rows.firstAt()! < cutoff) this.drop("age");
  }
}
