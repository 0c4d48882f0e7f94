/**
 * Configuration of the history store: the gateway-level `history:` block and the optional per-point
 * `history:` field. Durations are integer milliseconds (`*Ms`) like the rest of the config.
 */
import Type, { type Static } from "typebox";

const DAY_MS = 86_400_000;

/** Defaults of the gateway-level `history:` block, applied by {@link resolveHistoryConfig}. */
export const HISTORY_DEFAULTS = {
  mode: "on",
  file: "history.sqlite",
  retentionMs: 7 * DAY_MS,
  maxSizeMb: 512,
  sweepIntervalMs: 60_000,
  queueCapacity: 50_000,
  maxBatch: 1_000,
} as const;

/** The gateway-level `history:` block. Every field is optional; an absent block means all defaults. */
export const HistoryConfigSchema = Type.Object(
  {
    mode: Type.Optional(
      Type.Enum(["on", "off"], {
        default: HISTORY_DEFAULTS.mode,
        description: "on (default): keep recent readings in an embedded SQLite store; off: keep none.",
      }),
    ),
    file: Type.Optional(
      Type.String({
        minLength: 1,
        default: HISTORY_DEFAULTS.file,
        description: "SQLite file of the store; relative to `dataDir`.",
      }),
    ),
    retentionMs: Type.Optional(
      Type.Integer({
        minimum: 1_000,
        default: HISTORY_DEFAULTS.retentionMs,
        description:
          "Readings older than this (by their `ts`) are deleted, unless the point sets its own retention. Default 7 days.",
      }),
    ),
    maxSizeMb: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: HISTORY_DEFAULTS.maxSizeMb,
        description:
          "Size cap of the store in MiB: above it the oldest stored readings (of any point) are deleted first. Default 512.",
      }),
    ),
    sweepIntervalMs: Type.Optional(
      Type.Integer({
        minimum: 1_000,
        default: HISTORY_DEFAULTS.sweepIntervalMs,
        description: "How often retention (age and size) is enforced, in ms. Default 60000.",
      }),
    ),
    queueCapacity: Type.Optional(
      Type.Integer({
        minimum: 100,
        default: HISTORY_DEFAULTS.queueCapacity,
        description:
          "Readings queued for the store at most; when the disk falls behind, the oldest queued are dropped and counted. Default 50000.",
      }),
    ),
    maxBatch: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100_000,
        default: HISTORY_DEFAULTS.maxBatch,
        description: "Most readings written in one SQLite transaction. Default 1000.",
      }),
    ),
  },
  {
    additionalProperties: false,
    default: {},
    description: "History: an embedded store of recent readings, served at `…/points/:point/history`.",
  },
);

/** The `history:` block as written in the config file. */
export type HistoryConfig = Static<typeof HistoryConfigSchema>;

/** The `history:` block with every default applied. */
export type ResolvedHistoryConfig = {
  -readonly [K in keyof typeof HISTORY_DEFAULTS]-?: NonNullable<HistoryConfig[K]>;
};

/** Applies the defaults to a (possibly absent) `history:` block. */
export function resolveHistoryConfig(config: HistoryConfig = {}): ResolvedHistoryConfig {
  return {
    mode: config.mode ?? HISTORY_DEFAULTS.mode,
    file: config.file ?? HISTORY_DEFAULTS.file,
    retentionMs: config.retentionMs ?? HISTORY_DEFAULTS.retentionMs,
    maxSizeMb: config.maxSizeMb ?? HISTORY_DEFAULTS.maxSizeMb,
    sweepIntervalMs: config.sweepIntervalMs ?? HISTORY_DEFAULTS.sweepIntervalMs,
    queueCapacity: config.queueCapacity ?? HISTORY_DEFAULTS.queueCapacity,
    maxBatch: config.maxBatch ?? HISTORY_DEFAULTS.maxBatch,
  };
}

/** The per-point `history:` field; declared with the core point fields in the SDK. */
export { type PointHistory, PointHistorySchema } from "../sdk/point.js";
