import type { TSchema } from "typebox";
import { Compile } from "typebox/compile";
import { describe, expect, it } from "vitest";
import { HISTORY_DEFAULTS, HistoryConfigSchema, PointHistorySchema, resolveHistoryConfig } from "./config.js";

const history = Compile(HistoryConfigSchema);
const pointHistory = Compile(PointHistorySchema);

describe("history config", () => {
  it("resolves an absent block to the defaults, and keeps given values", () => {
    expect(resolveHistoryConfig()).toEqual({
      mode: "on",
      file: "history.sqlite",
      retentionMs: 604_800_000,
      maxSizeMb: 512,
      sweepIntervalMs: 60_000,
      queueCapacity: 50_000,
      maxBatch: 1_000,
    });
    expect(resolveHistoryConfig({ mode: "off", retentionMs: 3_600_000 })).toMatchObject({
      mode: "off",
      retentionMs: 3_600_000,
      maxSizeMb: 512,
    });
  });

  it("schema defaults match the resolved defaults", () => {
    for (const [k, v] of Object.entries(HISTORY_DEFAULTS))
      expect((HistoryConfigSchema.properties as Record<string, { default?: unknown }>)[k]?.default, k).toBe(
        v,
      );
  });

  it("accepts valid blocks and rejects unknown fields and bad values", () => {
    expect(history.Check({})).toBe(true);
    expect(history.Check({ mode: "on", retentionMs: 86_400_000, maxSizeMb: 64, file: "h.db" })).toBe(true);
    expect(history.Check({ enabled: true })).toBe(false);
    expect(history.Check({ mode: "yes" })).toBe(false);
    expect(history.Check({ maxSizeMb: 0 })).toBe(false);
    expect(history.Check({ retentionMs: 1.5 })).toBe(false);
    expect(pointHistory.Check({ retentionMs: 0 })).toBe(true);
    expect(pointHistory.Check({ retentionMs: -1 })).toBe(false);
    expect(pointHistory.Check({ retentionMs: 10, other: 1 })).toBe(false);
  });

  it("describes every field", () => {
    for (const schema of [HistoryConfigSchema, PointHistorySchema] as TSchema[]) {
      const props = (schema as { properties: Record<string, { description?: string }> }).properties;
      for (const [k, p] of Object.entries(props)) expect(p.description, k).toMatch(/\w{3}/);
    }
  });
});
