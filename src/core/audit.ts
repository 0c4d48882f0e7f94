/**
 * The append-only audit log of writes: one JSON line per write attempt, accepted or refused, in
 * `<dataDir>/audit.jsonl`. The file is only ever opened for appending; readers get the newest
 * entries first.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
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

/** Appends and reads audit entries. */
export class AuditLog {
  constructor(readonly file: string) {}

  /** Appends one entry; synchronous so that a write is never confirmed before it is on record. */
  append(entry: AuditEntry): void {
    mkdirSync(dirname(this.file), { recursive: true });
    appendFileSync(this.file, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  }

  /** Newest entries first, at most `limit`, optionally only those of one device. */
  read(limit: number, device?: string): AuditEntry[] {
    if (!existsSync(this.file)) return [];
    const lines = readFileSync(this.file, "utf8").split("\n");
    const out: AuditEntry[] = [];
    for (let i = lines.length - 1; i >= 0 && out.length < limit; i--) {
      const line = lines[i];
      if (!line) continue;
      try {
        const entry = JSON.parse(line) as AuditEntry;
        if (!device || entry.device === device) out.push(entry);
      } catch {
        // a torn last line after a crash: skip it, keep the rest
      }
    }
    return out;
  }
}
