import Type from "typebox";
import { describe, expect, it } from "vitest";
import type { Reading } from "../schema/reading.js";
import { defineSink } from "./sink.js";
import { createSinkTestContext } from "./sink-testing.js";
import { FAKE_CLOCK_START, FakeClock, MemoryMetrics } from "./testing.js";

const definition = defineSink({
  type: "demo",
  description: "Demo sink.",
  sdk: "^1.0.0",
  settingsSchema: Type.Object(
    {
      url: Type.String({ minLength: 1, description: "Where to send." }),
      retries: Type.Optional(Type.Integer({ minimum: 0, default: 3, description: "Retries." })),
      headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "Headers." })),
    },
    { additionalProperties: false },
  ),
  capabilities: [],
  create: () => ({
    start: async () => undefined,
    stop: async () => undefined,
    publish: async () => undefined,
  }),
});

const reading = (device: string, point: string): Reading => ({
  gateway: "gw",
  device,
  point,
  value: 1,
  type: "int16",
  quality: "good",
  ts: "2025-01-01T00:00:00.000Z",
  receivedAt: "2025-01-01T00:00:00.000Z",
  protocol: "simulator",
  seq: 1,
});

describe("createSinkTestContext", () => {
  it("hands the settings over validated, as given (no defaults, as the core does), without touching them", () => {
    const settings = { url: "http://x" };
    const { ctx } = createSinkTestContext(definition, settings);
    expect(ctx.settings).toEqual({ url: "http://x" });
    expect(ctx.settings).not.toBe(settings);
    expect(ctx).toMatchObject({ gateway: "test-gateway", sink: "test-sink" });
    expect(ctx.dataDir).toMatch(/tagbridge-test-.*test-gateway\/sinks\/test-sink$/);
  });

  it("throws one error listing every problem with its path", () => {
    const run = () =>
      createSinkTestContext(definition, { retries: -1, headers: { a: 1 }, colour: "red" }, { sink: "s1" });
    let message = "";
    try {
      run();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^invalid demo sink test settings:/);
    for (const expected of [
      "settings: must have required properties url",
      "settings/retries: must be >= 0",
      "settings/headers/a: must be string",
      "settings/colour: unknown field",
    ])
      expect(message).toContain(expected);
    expect(() => createSinkTestContext(definition, undefined)).toThrow(/settings: must be object/);
  });

  it("records state changes, and waits for a state with a deadline", async () => {
    const tc = createSinkTestContext(definition, { url: "u" });
    expect(tc.current).toBeUndefined();
    const connected = tc.waitForState("connected", 1_000);
    tc.ctx.setState("disconnected", "refused");
    setImmediate(() => tc.ctx.setState("connected"));
    await connected;
    expect(tc.states.map(({ state, reason }) => ({ state, reason }))).toEqual([
      { state: "disconnected", reason: "refused" },
      { state: "connected", reason: undefined },
    ]);
    expect(tc.current).toBe("connected");
    await tc.waitForState("connected", 1); // already there
    await expect(tc.waitForState("disconnected", 30)).rejects.toThrow(
      "did not report disconnected within 30 ms (reported: disconnected (refused), connected)",
    );
  });

  it("answers selects, latest and deviceState from the options, and keeps durable state", () => {
    const all = [reading("a", "t1"), reading("a", "t2"), reading("b", "t1")];
    const clock = new FakeClock(5);
    const tc = createSinkTestContext(
      definition,
      { url: "u" },
      {
        latest: all,
        selects: (r) => r.point === "t1",
        deviceStates: { a: "connected" },
        state: { bdSeq: "7" },
        clock,
        gateway: "gw-2",
        dataDir: "/tmp/x",
      },
    );
    expect(tc.ctx.selects(all[1]!)).toBe(false);
    expect(tc.ctx.latest().map((r) => `${r.device}/${r.point}`)).toEqual(["a/t1", "b/t1"]);
    expect(tc.ctx.latest(["b"]).map((r) => r.device)).toEqual(["b"]);
    expect(tc.ctx.deviceState("a")).toBe("connected");
    expect(tc.ctx.deviceState("zz")).toBeUndefined();
    expect(tc.ctx.state.get("bdSeq")).toBe("7");
    tc.ctx.state.set("bdSeq", "8");
    expect(tc.stored.get("bdSeq")).toBe("8");
    expect(tc.ctx.clock).toBe(clock);
    expect(tc.ctx.gateway).toBe("gw-2");
    expect(tc.ctx.dataDir).toBe("/tmp/x");
    expect(tc.metrics).toBeInstanceOf(MemoryMetrics);
    expect(() => tc.ctx.metrics.counter("Bad-Name", "x")).toThrow(/snake_case/);
    expect(createSinkTestContext(definition, { url: "u" }).clock.now()).toBe(FAKE_CLOCK_START);
  });
});
