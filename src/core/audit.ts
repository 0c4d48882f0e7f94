/**
 * The append-only audit log of writes: one JSON line per write attempt, accepted or refused, in
 * `<dataDir>/audit.jsonl`. The file is only ever opened for appending; readers get the newest
 * entries first.
 *
 * Bounded: once the file would pass `maxBytes` it is rotated (`audit.jsonl` → `audit.jsonl.1` →
 * … → `audit.jsonl.<keep-1>`, the oldest deleted), so the log holds at most `keep` files of
 * `maxBytes`. Reads go backwards from the end in chunks and stop once `limit` entries (or the
 * start of the asked range) are found: never a whole file for the newest entries.
 */
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { dirname } from "node:path";

/** One audited write. */
export interface AuditEntry {
  /** ISO time the write was decided. */
  at: string;
  /** Name of the API token that asked, or `anonymous`. */
  token: string;
  device: string;
  point: string;
  /** Latest value before the write, if one was known. */
  oldValue?: unknown;
  /** The value as requested. */
  newValue: unknown;
  /** The value written (engineering units), when rounding made it differ from `newValue`. */
  written?: unknown;
  /** `ok`: the device confirmed; `refused`: the gateway said no; `failed`: the device said no. */
  outcome: "ok" | "refused" | "failed";
  /** Error code or protocol status behind the outcome. */
  code?: string;
  message?: string;
}

/** Size bound of the log. */
export interface AuditLogOptions {
  /** Rotate once the current file would pass this; default 10 MiB. */
  maxBytes?: number;
  /** Files kept, the current one included; default 5. */
  keep?: number;
}

/** A time range of `read`, ISO strings compared as entries' `at` (inclusive). */
export interface AuditRange {
  from?: string;
  to?: string;
}

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

/** Appends and reads audit entries. */
export class AuditLog {
  private readonly maxBytes: number;
  private readonly keep: number;
  private size: number | undefined;
  /** Bytes the last `read` took from disk (for tests and diagnostics). */
  lastReadBytes = 0;

  constructor(
    readonly file: string,
    options: AuditLogOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
    this.keep = Math.max(1, options.keep ?? 5);
  }

  /** Appends one entry; synchronous so that a write is never confirmed before it is on record. */
  append(entry: AuditEntry): void {
    const line = `${JSON.stringify(entry)}\n`;
    const n = Buffer.byteLength(line);
    if (this.size === undefined) {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      this.size = statSync(this.file, { throwIfNoEntry: false })?.size ?? 0;
    }
    if (this.size > 0 && this.size + n > this.maxBytes) this.rotate();
    appendFileSync(this.file, line, { mode: 0o600 });
    this.size += n;
  }

  /**
   * Newest entries first, at most `limit`, optionally only those of one device and within a
   * range of `at`. Reads backwards and stops as soon as it has them.
   */
  read(limit: number, device?: string, range: AuditRange = {}): AuditEntry[] {
    const out: AuditEntry[] = [];
    this.lastReadBytes = 0;
    for (let i = 0; i < this.keep && out.length < limit; i++) {
      const done = this.readFile(i === 0 ? this.file : `${this.file}.${i}`, (entry) => {
        if (range.from !== undefined && entry.at < range.from) return true; // older from here on
        if (range.to !== undefined && entry.at > range.to) return false;
        if (device && entry.device !== device) return false;
        out.push(entry);
        return out.length >= limit;
      });
      if (done) break;
    }
    return out;
  }

  private rotate(): void {
    rmSync(`${this.file}.${this.keep - 1}`, { force: true });
    for (let i = this.keep - 2; i >= 1; i--) {
      if (statSync(`${this.file}.${i}`, { throwIfNoEntry: false }))
        renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
    }
    if (this.keep > 1) renameSync(this.file, `${this.file}.1`);
    else rmSync(this.file, { force: true });
    this.size = 0;
  }

  /** Calls `visit` on each entry of one file, newest first, until it returns true (then true). */
  private readFile(path: string, visit: (entry: AuditEntry) => boolean): boolean {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch {
      return false; // not there (yet, or any more)
    }
    try {
      let pos = statSync(path).size;
      let tail: Buffer = Buffer.alloc(0); // the start of a line whose beginning is further back
      while (pos > 0) {
        const len = Math.min(CHUNK, pos);
        pos -= len;
        const chunk = Buffer.alloc(len);
        readSync(fd, chunk, 0, len, pos);
        this.lastReadBytes += len;
        let buf = tail.length > 0 ? Buffer.concat([chunk, tail]) : chunk;
        let end = buf.length;
        for (let i = buf.length - 1; i >= 0; i--) {
          if (buf[i] !== NEWLINE) continue;
          if (this.visitLine(buf.subarray(i + 1, end), visit)) return true;
          end = i;
        }
        buf = buf.subarray(0, end);
        tail = Buffer.from(buf);
      }
      return this.visitLine(tail, visit);
    } finally {
      closeSync(fd);
    }
  }

  private visitLine(line: Buffer, visit: (entry: AuditEntry) => boolean): boolean {
    if (line.length === 0) return false;
    let entry: AuditEntry;
    try {
      entry = JSON.parse(line.toString("utf8")) as AuditEntry;
    } catch {
      return false; // a torn last line after a crash: skip it, keep the rest
    }
    return visit(entry);
  }
}
