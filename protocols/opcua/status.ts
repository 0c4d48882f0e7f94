/** OPC UA status codes → Reading quality and status name. Pure. */
import type { StatusCode } from "node-opcua-status-code";

/** Quality of a reading (same values as the Reading schema). */
export type OpcuaQuality = "good" | "uncertain" | "bad";

/** A status code's severity as a quality, and its name when there is anything to say. */
export interface QualityOf {
  quality: OpcuaQuality;
  /** The status code's name; absent for plain `Good`. */
  status?: string;
}

const GOOD: QualityOf = { quality: "good" };

/** Maps a status code by its severity bits (00 good, 01 uncertain, 10/11 bad). */
export function qualityOf(code: Pick<StatusCode, "value" | "name"> | null | undefined): QualityOf {
  if (!code || code.value === 0) return GOOD;
  const severity = code.value >>> 30;
  const quality: OpcuaQuality = severity === 0 ? "good" : severity === 1 ? "uncertain" : "bad";
  return { quality, status: code.name };
}

/** True for a status code of Good severity (including GoodXxx codes). */
export function isGood(code: Pick<StatusCode, "value"> | null | undefined): boolean {
  return !code || code.value >>> 30 === 0;
}
