/**
 * The durable store-and-forward buffer of one north sink: a SQLite file in WAL mode
 * (`<dataDir>/north/<id>.sqlite`) holding Readings as JSON rows in arrival order.
 *
 * What is durable when:
 * - `append()` only puts readings in memory (`pending`). Every `syncIntervalMs`, and at once when
 *   pending holds more than 4 MiB, `sync()` commits them in one transaction with
 *   `synchronous = FULL`, so the commit is fsynced to the WAL file before `sync()` returns. A
 *   kill -9 or a power cut therefore loses at most the readings appended since the last sync
 *   (≤ `syncIntervalMs` of them), never a committed one, and never corrupts the file.
 * - Acknowledged readings are removed by advancing an in-memory cursor (`ackedThrough`); the
 *   DELETE runs in the next sync. A crash between the two re-sends them after the restart:
 *   at-least-once, `seq` tells duplicates apart.
 * - `read()` serves from the file only: it syncs first when the file part alone cannot fill it.
 *
 * Bounds: `maxBytes` counts the JSON of buffered readings (the file is larger by SQLite's
 * overhead); beyond it drop-oldest advances the cursor past the oldest rows, drop-newest refuses
 * the incoming readings. Readings older than `maxAgeMs` (by the time they were buffered) are
 * dropped at each sync. Every dropped reading is counted.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Logger } from "pino";
import type { Reading } from "../schema/reading.js";

/** Options of {@link SinkBuffer.open}. */
export interface BufferOptions {
  maxBytes: number;
  maxAgeMs: number;
  overflow: "drop-oldest" | "drop-newest";
  /** 0: no timer (the owner calls `sync()`). */
  syncIntervalMs: number;
  log: Logger;
  now?: () => number;
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
  /** Readings committed to the file by the last sync (highest seq); null before the first. */
  syncedSeq: number | null;
  /** Failed syncs (disk errors); their readings stay pending and are retried. */
  errors: number;
}

interface Row {
  at: number;
  body: string;
  seq: number;
}

/** A read batch and what to pass to `ack` once it has been delivered. */
export interface BufferRead {
  readings: Reading[];
  through: number;
}

const PENDING_SYNC_BYTES = 4 * 1024 * 1024;
const DDL = `
CREATE TABLE IF NOT EXISTS readings (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/** Durable FIFO of Readings with size and age bounds. Synchronous (better-sqlite3). */
export class SinkBuffer {
  private pending: Row[] = [];
  private pendingBytes = 0;
  private ackedThrough = 0;
  private deletedThrough = 0;
  private stored = 0;
  private storedBytes = 0;
  private droppedForSize = 0;
  private droppedForAge = 0;
  private appended = 0;
  private errors = 0;
  private syncedSeq: number | null = null;
  private closed = false;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly st: {
    insert: Database.Statement<[number, string]>;
    remove: Database.Statement<[number]>;
    page: Database.Statement<[number, number], { id: number; at: number; body: string }>;
    sizes: Database.Statement<[number, number], { id: number; at: number; n: number }>;
    oldest: Database.Statement<[number], { at: number }>;
    getMeta: Database.Statement<[string], { value: string }>;
    setMeta: Database.Statement<[string, string]>;
  };
  private readonly commit: (rows: readonly Row[], deleteThrough: number) => void;

  private constructor(
    private readonly db: Database.Database,
    private readonly options: BufferOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.st = {
      insert: db.prepare("INSERT INTO readings (at, body) VALUES (?, ?)"),
      remove: db.prepare("DELETE FROM readings WHERE id <= ?"),
      page: db.prepare("SELECT id, at, body FROM readings WHERE id > ? ORDER BY id LIMIT ?"),
      sizes: db.prepare("SELECT id, at, length(body) AS n FROM readings WHERE id > ? ORDER BY id LIMIT ?"),
      oldest: db.prepare("SELECT at FROM readings WHERE id > ? ORDER BY id LIMIT 1"),
      getMeta: db.prepare("SELECT value FROM meta WHERE key = ?"),
      setMeta: db.prepare(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      ),
    };
    const totals = db
      .prepare("SELECT count(*) AS n, coalesce(sum(length(body)), 0) AS b FROM readings")
      .get() as {
      n: number;
      b: number;
    };
    this.stored = totals.n;
    this.storedBytes = totals.b;
    this.commit = db.transaction((rows: readonly Row[], deleteThrough: number) => {
      for (const r of rows) this.st.insert.run(r.at, r.body);
      if (deleteThrough > this.deletedThrough) this.st.remove.run(deleteThrough);
    });
    if (options.syncIntervalMs > 0) {
      this.timer = setInterval(() => this.sync(), options.syncIntervalMs);
      this.timer.unref();
    }
  }

  /** Opens or creates the file (and its directory). A restart finds what was committed. */
  static open(file: string, options: BufferOptions): SinkBuffer {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file);
    try {
      db.pragma("auto_vacuum = INCREMENTAL");
      db.pragma("journal_mode = WAL");
      // FULL in WAL mode: each commit fsyncs the WAL; commits happen once per sync interval.
      db.pragma("synchronous = FULL");
      db.pragma("journal_size_limit = 16777216");
      db.exec(DDL);
      return new SinkBuffer(db, options);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Readings buffered now. */
  get size(): number {
    return this.stored + this.pending.length;
  }

  /** Buffers readings (in memory until the next sync), applying the size bound. */
  append(readings: readonly Reading[]): void {
    if (this.closed) return;
    const at = this.now();
    for (const r of readings) {
      const body = JSON.stringify(r);
      const n = body.length;
      const over = this.storedBytes + this.pendingBytes + n - this.options.maxBytes;
      if (over > 0) {
        if (this.options.overflow === "drop-newest" || n > this.options.maxBytes) {
          this.droppedForSize++;
          continue;
        }
        this.dropOldest(over);
      }
      this.pending.push({ at, body, seq: r.seq });
      this.pendingBytes += n;
      this.appended++;
    }
    if (this.pendingBytes > PENDING_SYNC_BYTES) this.sync();
  }

  /** Up to `limit` of the oldest readings, in arrival order; nothing is removed until `ack`. */
  read(limit: number): BufferRead {
    if (this.stored < limit && this.pending.length > 0) this.sync();
    const rows = this.closed ? [] : this.st.page.all(this.ackedThrough, limit);
    return {
      readings: rows.map((r) => JSON.parse(r.body) as Reading),
      through: rows.at(-1)?.id ?? this.ackedThrough,
    };
  }

  /** Removes what a `read` returned (the DELETE is committed by the next sync). */
  ack(read: BufferRead): void {
    if (this.closed || read.through <= this.ackedThrough) return;
    this.forget(read.through);
  }

  /** Commits pending readings and removals, fsynced; drops readings older than maxAgeMs. */
  sync(): void {
    if (this.closed) return;
    this.dropAged();
    const rows = this.pending;
    if (rows.length === 0 && this.ackedThrough <= this.deletedThrough) return;
    try {
      this.commit(rows, this.ackedThrough);
    } catch (error) {
      this.errors++;
      this.options.log.error({ err: error }, "north buffer sync failed; readings kept in memory");
      return;
    }
    this.deletedThrough = Math.max(this.deletedThrough, this.ackedThrough);
    this.pending = [];
    this.stored += rows.length;
    this.storedBytes += this.pendingBytes;
    this.pendingBytes = 0;
    const last = rows.at(-1);
    if (last) this.syncedSeq = last.seq;
    if (this.stored === 0 && rows.length === 0) this.db.pragma("incremental_vacuum");
  }

  /** A small persistent value of the sink (e.g. the Sparkplug bdSeq); committed at once. */
  meta(key: string): string | undefined {
    return this.st.getMeta.get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.st.setMeta.run(key, value);
  }

  stats(): BufferStats {
    let oldestAt: number | null = null;
    if (this.stored > 0 && !this.closed) oldestAt = this.st.oldest.get(this.ackedThrough)?.at ?? null;
    else if (this.pending.length > 0) oldestAt = this.pending[0]!.at;
    return {
      buffered: this.size,
      bytes: this.storedBytes + this.pendingBytes,
      oldestAt,
      droppedForSize: this.droppedForSize,
      droppedForAge: this.droppedForAge,
      appended: this.appended,
      syncedSeq: this.syncedSeq,
      errors: this.errors,
    };
  }

  /** Syncs and closes; idempotent. */
  close(): void {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    this.sync();
    this.closed = true;
    this.db.close();
  }

  /** Moves the cursor past stored rows through `id`, keeping the counters right. */
  private forget(id: number, onRow?: (row: { at: number; n: number }) => boolean): number {
    let removed = 0;
    for (;;) {
      const rows = this.st.sizes.all(this.ackedThrough, 1000);
      if (rows.length === 0) break;
      for (const r of rows) {
        if (r.id > id || (onRow && !onRow(r))) return removed;
        this.ackedThrough = r.id;
        this.stored--;
        this.storedBytes -= r.n;
        removed++;
      }
    }
    return removed;
  }

  /** Frees at least `bytes`, oldest first: committed rows, then pending ones. */
  private dropOldest(bytes: number): void {
    let freed = 0;
    this.droppedForSize += this.forget(Number.MAX_SAFE_INTEGER, (r) => {
      if (freed >= bytes) return false;
      freed += r.n;
      return true;
    });
    let k = 0;
    while (freed < bytes && k < this.pending.length) {
      freed += this.pending[k]!.body.length;
      k++;
    }
    if (k > 0) this.dropPending(k, "size");
  }

  private dropAged(): void {
    const cutoff = this.now() - this.options.maxAgeMs;
    if (this.stored > 0) this.droppedForAge += this.forget(Number.MAX_SAFE_INTEGER, (r) => r.at < cutoff);
    let k = 0;
    while (k < this.pending.length && this.pending[k]!.at < cutoff) k++;
    if (k > 0) this.dropPending(k, "age");
  }

  private dropPending(k: number, why: "size" | "age"): void {
    const gone = this.pending.splice(0, k);
    for (const r of gone) this.pendingBytes -= r.body.length;
    if (why === "size") this.droppedForSize += k;
    else this.droppedForAge += k;
  }
}
