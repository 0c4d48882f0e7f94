/** How values, times and counters look in the console. */

export function formatValue(value: unknown, type: string): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") {
    // Three decimals at most, without trailing zeros: 150.5, not 150.500.
    if (type.startsWith("float")) return String(Number(value.toFixed(3)));
    return String(value);
  }
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** Local wall-clock time with milliseconds; the full ISO string goes into the title. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** `3 s`, `4 min`, `2 h` ago. */
export function formatAge(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${Math.round(ms / 1_000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** Numeric and boolean points can be charted. */
export function chartable(type: string): boolean {
  return !type.endsWith("[]") && (type === "bool" || /^(u?int|float)/.test(type));
}

/** A chart value: numbers as they are, booleans as 0/1, numeric strings (int64) parsed. */
export function numeric(value: unknown): number | null {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) return Number(value);
  return null;
}

/** What a device did not take or lost: poll ticks not read, and readings dropped (see the README's Device counters). */
export interface Losses {
  /** Poll ticks not read: overruns + missedPolls + skippedPolls. */
  notTaken: number;
  droppedReadings: number;
  /** The breakdown, for a tooltip. */
  detail: string;
}

export function losses(counters: Record<string, number | null>): Losses {
  const n = (key: string) => counters[key] ?? 0;
  const notTaken = n("overruns") + n("missedPolls") + n("skippedPolls");
  const droppedReadings = n("droppedReadings");
  const detail =
    `${notTaken} poll ticks not taken (${n("overruns")} overruns, ${n("missedPolls")} missed, ` +
    `${n("skippedPolls")} skipped while not connected) / ${droppedReadings} readings dropped`;
  return { notTaken, droppedReadings, detail };
}
