/**
 * The history store: recent readings in an embedded SQLite file. Writes come in batches from the
 * bus consumer (one transaction each); reads are range queries of one point, raw or downsampled.
 * better-sqlite3 is synchronous, which suits both: a 1,000-reading transaction takes a few ms, and
 * no write can interleave with another. The service runs it in a worker thread (store-worker.ts,
 * driven by client.ts), never on the main event loop; tests and benchmarks may use it directly.
 */
import { chmodSync, mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Logger } from "pino";
import type { QUALITIES, Quality, Reading } from "../schema/reading.js";
import type { ResolvedHistoryConfig } from "./config.js";
import { Failures } from "./failures.js";
import {
  type PointRetention,
  releaseFreePages,
  type SweepResult,
  sweepByAge,
  sweepBySize,
} from "./retention.js";
import {
  type BucketRow,
  databaseBytes,
  prepareDatabase,
  prepareStatements,
  type SampleRow,
  type Statements,
} from "./sql.js";
import type { HistoryQuery, HistoryResult, HistorySample, HistoryStats } from "./types.js";

/** Options of {@link HistoryStore.open}. */
export interface HistoryStoreOptions {
  /** Global retention in ms. */
  retentionMs: number;
  /** Size cap of the file in MiB. */
  maxSizeMb: number;
  /** Period of the automatic sweep in ms; 0 disables it (tests call `sweep()`). */
  sweepIntervalMs: number;
  /** Per-point retention (ms, 0 = keep nothing), `undefined` for the global one. Must be cheap. */
  pointRetention?: PointRetention;
  /** Clock in epoch ms; default `Date.now`. */
  now?: () => number;
}

/** The store options of a resolved `history:` config block (plain data: they go to the worker). */
export function historyStoreOptions(
  config: ResolvedHistoryConfig,
): Pick<HistoryStoreOptions, "retentionMs" | "maxSizeMb" | "sweepIntervalMs"> {
  return {
    retentionMs: config.retentionMs,
    maxSizeMb: config.maxSizeMb,
    sweepIntervalMs: config.sweepIntervalMs,
  };
}

const DEFAULT_LIMIT = 1_000;
/**
 * Qualities by their stored code: QUALITIES' order, checked by its type. A value import of
 * QUALITIES would load TypeBox (the Reading schema) into the store's worker thread for three words.
 */
const STORED_QUALITIES: typeof QUALITIES = ["good", "uncertain", "bad"];
const QUALITY_CODES = new Map<string, number>(STORED_QUALITIES.map((q, i) => [q, i]));
const key = (device: string, point: string) => `${device}\u0000${point}`;

function encodeValue(value: Reading["value"]): [num: number | null, json: string | null] {
  if (typeof value === "number") return Number.isNaN(value) ? [null, null] : [value, null];
  return value === null ? [null, null] : [null, JSON.stringify(value)];
}

function decodeSample(row: SampleRow): HistorySample {
  const value = row.num ?? (row.json === null ? null : (JSON.parse(row.json) as Reading["value"]));
  const sample: HistorySample = {
    ts: new Date(row.ts).toISOString(),
    value,
    quality: (STORED_QUALITIES[row.quality] ?? "bad") as Quality,
  };
  if (row.status !== null) sample.status = row.status;
  return sample;
}

const decodeBucket = (row: BucketRow) => ({
  ts: new Date(row.bucket).toISOString(),
  min: row.min,
  max: row.max,
  avg: row.avg,
  count: row.count,
});

/** Recent readings in a SQLite file, with retention by age and size. */
export class HistoryStore {
  private readonly statements: Statements;
  private readonly series = new Map<string, { id: number; device: string; point: string }>();
  private readonly writeBatch: (readings: readonly Reading[]) => void;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout | undefined;
  private closed = false;
  private sweeping: Promise<SweepResult> | undefined;
  private rows: number;
  private appended = 0;
  private readonly failures: Failures;
  private deletedByAge = 0;
  private deletedBySize = 0;

  private constructor(
    private readonly db: Database.Database,
    private readonly file: string,
    private readonly options: HistoryStoreOptions,
    private readonly log: Logger,
  ) {
    this.now = options.now ?? Date.now;
    this.failures = new Failures(log);
    this.statements = prepareStatements(db);
    this.loadSeries();
    this.rows = this.statements.count.get()?.n ?? 0;
    this.writeBatch = db.transaction((readings: readonly Reading[]) => {
      const insert = this.statements.insertSample;
      for (const r of readings) {
        const [num, json] = encodeValue(r.value);
        insert.run(
          this.seriesId(r.device, r.point),
          Date.parse(r.ts),
          num,
          json,
          QUALITY_CODES.get(r.quality) ?? 2,
          r.status ?? null,
        );
      }
    });
    if (options.sweepIntervalMs > 0) {
      this.timer = setInterval(() => void this.sweep(), options.sweepIntervalMs);
      this.timer.unref();
    }
  }

  /** Opens (or creates, with its directory) the store file. Throws when the file cannot be used. */
  static open(file: string, options: HistoryStoreOptions, log: Logger): HistoryStore {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const db = new Database(file);
    if (file !== ":memory:") chmodSync(file, 0o600); // plant data: readable by the gateway's user only
    try {
      prepareDatabase(db);
      const store = new HistoryStore(db, file, options, log);
      log.debug({ file, rows: store.rows }, "history store open");
      return store;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Stores readings in one transaction; returns how many. Never throws: failures are logged and counted. */
  append(readings: readonly Reading[]): number {
    if (this.closed || readings.length === 0) return 0;
    try {
      this.writeBatch(readings);
    } catch (error) {
      // The transaction rolled back, possibly with series rows the cache already holds.
      this.series.clear();
      this.safely(() => this.loadSeries());
      this.failures.failed("append", error, { readings: readings.length });
      return 0;
    }
    this.rows += readings.length;
    this.appended += readings.length;
    return readings.length;
  }

  /** Readings of one point in `ts` order, raw or downsampled when `bucketMs` is given. */
  query(device: string, point: string, q: HistoryQuery = {}): HistoryResult {
    const limit = q.limit ?? DEFAULT_LIMIT;
    const id = this.series.get(key(device, point))?.id;
    const from = q.from ?? Number.MIN_SAFE_INTEGER;
    const to = q.to ?? Number.MAX_SAFE_INTEGER;
    if (q.bucketMs !== undefined) {
      if (!(Number.isInteger(q.bucketMs) && q.bucketMs > 0))
        throw new RangeError("bucketMs must be a positive integer");
      const rows =
        id === undefined
          ? []
          : this.statements.buckets.all({ b: q.bucketMs, series: id, from, to, limit: limit + 1 });
      return {
        kind: "buckets",
        buckets: rows.slice(0, limit).map(decodeBucket),
        truncated: rows.length > limit,
      };
    }
    const rows = id === undefined ? [] : this.statements.samples.all(id, from, to, limit + 1);
    return {
      kind: "samples",
      samples: rows.slice(0, limit).map(decodeSample),
      truncated: rows.length > limit,
    };
  }

  /**
   * Enforces retention now: by age (per point, else global), then the size cap. Runs on the timer
   * too; a call during a running sweep returns that sweep's result. Never rejects.
   */
  sweep(): Promise<SweepResult> {
    this.sweeping ??= this.runSweep().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async runSweep(): Promise<SweepResult> {
    const result: SweepResult = { byAge: 0, bySize: 0 };
    if (this.closed) return result;
    const ctx = {
      db: this.db,
      statements: this.statements,
      series: this.series.values(),
      now: this.now(),
      retentionMs: this.options.retentionMs,
      pointRetention: this.options.pointRetention,
      maxBytes: this.options.maxSizeMb * 1024 * 1024,
      rows: () => this.rows,
      closed: () => this.closed,
    };
    try {
      result.byAge = await sweepByAge(ctx);
      this.rows -= result.byAge;
      this.deletedByAge += result.byAge;
      if (this.closed) return result;
      result.bySize = await sweepBySize(ctx);
      this.rows -= result.bySize;
      this.deletedBySize += result.bySize;
      if (!this.closed && result.byAge + result.bySize > 0) releaseFreePages(this.db);
    } catch (error) {
      if (!this.closed) this.failures.failed("sweep", error);
      // Partial deletes are committed; recount rather than guess.
      this.safely(() => {
        this.rows = this.statements.count.get()?.n ?? 0;
      });
    }
    if (result.byAge + result.bySize > 0) this.log.debug({ ...result, rows: this.rows }, "history sweep");
    return result;
  }

  /** Row count, size and counters. */
  stats(): HistoryStats {
    const bytes = this.closed ? { used: 0, file: 0 } : databaseBytes(this.db);
    const oldest = this.closed ? null : (this.statements.oldest.get()?.ts ?? null);
    return {
      rows: this.rows,
      series: this.series.size,
      bytes: bytes.used,
      fileBytes: this.file === ":memory:" ? bytes.file : this.fileSize(),
      oldest: oldest === null ? null : new Date(oldest).toISOString(),
      appended: this.appended,
      errors: this.failures.count,
      deletedByAge: this.deletedByAge,
      deletedBySize: this.deletedBySize,
    };
  }

  /** Stops the sweep timer and closes the file. Idempotent; appends after it are ignored. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.db.close();
  }

  private fileSize(): number {
    const size = (path: string) => statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    return size(this.file) + size(`${this.file}-wal`);
  }

  private loadSeries(): void {
    for (const s of this.statements.allSeries.all()) this.series.set(key(s.device, s.point), s);
  }

  private seriesId(device: string, point: string): number {
    const k = key(device, point);
    const known = this.series.get(k);
    if (known) return known.id;
    this.statements.insertSeries.run(device, point);
    const row = this.statements.seriesId.get(device, point);
    if (!row) throw new Error(`history: series ${device}/${point} not created`);
    this.series.set(k, { id: row.id, device, point });
    return row.id;
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch {
      // Already failing; the original error is the one reported.
    }
  }
}
