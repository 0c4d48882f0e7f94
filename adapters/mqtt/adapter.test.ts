import { afterEach, describe, expect, it, vi } from "vitest";
import { encodePayload, type MetricIn } from "../../protocols/sparkplug/payload.js";
import { createTestContext, FakeClock } from "../../src/sdk/testing.js";
import { clientOptions, createMqtt } from "./adapter.js";
import type { MqttClient, MqttClientOptions, MqttMessage } from "./client.js";
import mqttAdapter from "./index.js";
import { REBIRTH_HOLDOFF_MAX_MS, REBIRTH_INTERVAL_MS, rebirthHoldoffMs } from "./sparkplug.js";

/** A fake at the client seam: records calls, lets the test push messages and state changes. */
function fakeClient(behaviour: { connect?: () => Promise<void> } = {}) {
  const calls: string[] = [];
  let message: (m: MqttMessage) => void = () => undefined;
  let state: (s: "connected" | "disconnected", r?: string) => void = () => undefined;
  const published: { topic: string; payload: string }[] = [];
  const client: MqttClient = {
    connect: behaviour.connect ?? (async () => void calls.push("connect")),
    subscribe: async (filters) => void calls.push(`subscribe ${filters.join(",")}`),
    publish: async (topic, payload) =>
      void published.push({ topic, payload: Buffer.from(payload).toString() }),
    end: async () => void calls.push("end"),
    onMessage: (h) => {
      message = h;
    },
    onState: (h) => {
      state = h;
    },
  };
  return {
    client,
    calls,
    published,
    push: (topic: string, p: string | Uint8Array) => message({ topic, payload: Buffer.from(p) }),
    state: (s: "connected" | "disconnected") => state(s, "test"),
  };
}

const points = [
  { id: "a", type: "float64", topic: "x/{id}/a", path: "$.v" },
  { id: "b", type: "float64", topic: "x/1/b", format: "raw" },
];

function setup(settings: Record<string, unknown> = {}, pts: unknown[] = points, fake = fakeClient()) {
  const tc = createTestContext(mqttAdapter, {
    settings: { url: "mqtt://broker:1883", ...settings },
    points: pts,
  });
  let options: MqttClientOptions | undefined;
  const adapter = createMqtt(tc.ctx, (o) => {
    options = o;
    return fake.client;
  });
  return { ...tc, adapter, fake, options: () => options };
}

describe("mqtt adapter over a fake client", () => {
  it("declares push only: subscribe and write, nothing polled", () => {
    expect(mqttAdapter.capabilities).toEqual(["subscribe", "write"]);
    expect(mqttAdapter.polled?.({} as never)).toBe(false);
  });

  it("subscribes each filter once and maps client state to setState while running only", async () => {
    const s = setup();
    await s.adapter.start();
    expect(s.fake.calls).toEqual(["connect", "subscribe x/1/b,x/+/a"]);
    s.fake.state("disconnected");
    s.fake.state("connected");
    expect(s.states.map((x) => x.state)).toEqual(["disconnected", "connected"]);
    await s.adapter.stop();
    s.fake.state("disconnected");
    s.fake.push("x/1/b", "1");
    expect(s.states).toHaveLength(2);
    expect(s.emitted).toHaveLength(0);
  });

  it("counts messages that match no point and emits nothing for them", async () => {
    const s = setup();
    await s.adapter.start();
    s.fake.push("other/topic", "1");
    s.fake.push("x/9/a", '{"v": 2}');
    expect(s.emitted).toEqual([{ point: "a", value: 2, quality: "good", address: "x/9/a" }]);
    expect(s.metrics.counters.get("mqtt_unmatched_messages")).toBe(1);
  });

  it("start() fails clearly on a point without topic, and on a bad template", async () => {
    await expect(setup({}, [{ id: "n", type: "float64" }]).adapter.start()).rejects.toThrow(/has no topic/);
    await expect(setup({}, [{ id: "n", type: "float64", topic: "a/#/b" }]).adapter.start()).rejects.toThrow(
      /invalid filter/,
    );
  });

  it("a stop() during connect makes start() settle", async () => {
    let release: () => void = () => undefined;
    const fake = fakeClient({ connect: () => new Promise<void>((r) => (release = r)) });
    const s = setup({}, points, fake);
    const starting = s.adapter.start();
    await s.adapter.stop();
    release();
    await expect(starting).rejects.toThrow(/stopped while starting/);
  });

  it("derives client options: MQTT 5, persistent session, TLS verification on by default", () => {
    const s = setup({
      url: "mqtts://b:8883",
      protocolVersion: "5",
      session: "persistent",
      username: "u",
      password: "p",
    });
    expect(clientOptions(s.ctx)).toMatchObject({
      protocolVersion: 5,
      clean: false,
      clientId: "tagbridge-test-gateway-test-device",
      username: "u",
      tls: { rejectUnauthorized: true },
    });
    const insecure = setup({ url: "wss://b/mqtt", tls: { serverVerification: "insecure" } });
    expect(clientOptions(insecure.ctx).tls).toEqual({ rejectUnauthorized: false });
    expect(clientOptions(setup().ctx).tls).toBeUndefined();
  });

  it("writes refuse when not running, read-only points and points without a command topic", async () => {
    const s = setup({}, [...points, { id: "w", type: "float64", topic: "w", access: "readwrite" }]);
    const w = s.ctx.points.find((p) => p.id === "w")!;
    await expect(s.adapter.write(w, 1)).rejects.toThrow(/not connected/);
    await s.adapter.start();
    await expect(s.adapter.write(s.ctx.points[0]!, 1)).rejects.toThrow(/read-only/);
    await expect(s.adapter.write(w, 1)).rejects.toThrow(/no commandTopic/);
    // A value the point cannot carry is the adapter's WriteRefused (the API answers 422), nothing sent.
    await expect(s.adapter.write(w, "hot")).rejects.toMatchObject({
      name: "WriteRefused",
      reason: "InvalidValue",
    });
    expect(s.fake.published).toEqual([]);
  });

  it("writes 64-bit integers handed over as bigint: a number when safe, else a decimal string", async () => {
    const w = {
      id: "big",
      type: "int64",
      topic: "big",
      access: "readwrite",
      commandTopic: "cmd/{point}",
      commandFormat: "raw",
    };
    const s = setup({}, [w]);
    await s.adapter.start();
    const point = s.ctx.points[0]!;
    await s.adapter.write(point, 42n);
    await s.adapter.write(point, 9007199254740993n);
    expect(s.fake.published).toEqual([
      { topic: "cmd/big", payload: "42" },
      { topic: "cmd/big", payload: "9007199254740993" },
    ]);
  });
});

describe("Sparkplug rebirth requests over a fake client: one per edge node per need", () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const sp = { groupId: "G", edgeNodeId: "E1", deviceId: "D1" };
  const spPoints = [{ id: "speed", type: "float64", metric: "Speed" }];
  const bytes = (seq: number | undefined, metrics: MetricIn[] = []) =>
    encodePayload({ timestamp: 1, ...(seq === undefined ? {} : { seq }), metrics });
  const rebirthCmd = bytes(undefined, [{ name: "Node Control/Rebirth", type: "Boolean", value: true }]);
  async function started(clientId: string) {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const clock = new FakeClock();
    const fake = fakeClient();
    const tc = createTestContext(mqttAdapter, {
      settings: { url: "mqtt://broker:1883", clientId, sparkplug: sp },
      points: spPoints,
      clock,
    });
    const adapter = createMqtt(tc.ctx, () => fake.client);
    await adapter.start();
    const advance = (ms: number) => {
      clock.set(clock.now() + ms);
      vi.advanceTimersByTime(ms);
    };
    const ncmds = () => fake.published.filter((p) => p.topic === "spBv1.0/G/NCMD/E1").length;
    const counter = (name: string) => tc.metrics.counters.get(name) ?? 0;
    return { fake, adapter, advance, ncmds, counter, holdoff: rebirthHoldoffMs(clientId) };
  }
  // A client id with a holdoff of at least 100 ms, so "during the holdoff" is a real interval.
  const id = ["c1", "c2", "c3", "c4", "c5", "c6"].find((c) => rebirthHoldoffMs(c) >= 100)!;

  it("data before birth: one NCMD after the holdoff, however many messages show the need", async () => {
    const s = await started(id);
    for (const seq of [3, 4, 9]) s.fake.push("spBv1.0/G/DDATA/E1/D1", bytes(seq));
    s.advance(s.holdoff - 1);
    expect(s.ncmds()).toBe(0);
    s.advance(1);
    expect(s.ncmds()).toBe(1);
    s.fake.push("spBv1.0/G/NCMD/E1", rebirthCmd); // our own request, echoed by the broker
    s.fake.push("spBv1.0/G/DDATA/E1/D1", bytes(10));
    s.advance(REBIRTH_INTERVAL_MS - 1);
    expect(s.ncmds()).toBe(1); // still the same need, within the interval
    s.advance(1);
    s.fake.push("spBv1.0/G/DDATA/E1/D1", bytes(11)); // the node never answered: ask again
    s.advance(s.holdoff);
    expect(s.ncmds()).toBe(2);
    expect(s.counter("sparkplug_rebirth_requests")).toBe(2);
  });

  it.each([
    ["another host's Rebirth NCMD", "spBv1.0/G/NCMD/E1", rebirthCmd],
    ["an NBIRTH", "spBv1.0/G/NBIRTH/E1", bytes(0, [{ name: "bdSeq", type: "Int64", value: 1 }])],
  ] as const)("%s during the holdoff: no NCMD from us", async (_n, topic, payload) => {
    const s = await started(id);
    s.fake.push("spBv1.0/G/DDATA/E1/D1", bytes(3));
    s.advance(s.holdoff - 1);
    s.fake.push(topic, payload);
    s.advance(REBIRTH_HOLDOFF_MAX_MS);
    expect(s.ncmds()).toBe(0);
    expect(s.counter("sparkplug_rebirth_skipped")).toBe(1);
  });

  // Regression (fault suite, sparkplug-by-exception): a node born before the gateway connected that
  // reports by exception published nothing, so its points never had a reading.
  it("on connect and on every reconnect, with no birth coming: one NCMD after the holdoff", async () => {
    const s = await started(id);
    s.advance(s.holdoff);
    expect(s.ncmds()).toBe(1);
    s.fake.state("disconnected");
    s.fake.state("connected"); // the library reconnected: what the node said meanwhile is lost
    s.advance(s.holdoff);
    expect(s.ncmds()).toBe(2); // a new connection: the 5 s spacing of the last request does not apply
  });

  it("a need within 5 s of the last request is sent when the 5 s are over, not dropped", async () => {
    const s = await started(id);
    s.advance(s.holdoff);
    expect(s.ncmds()).toBe(1); // the on-connect request
    s.fake.push("spBv1.0/G/DDATA/E1/D1", bytes(7)); // data before birth: a new need, 'holdoff' ms later
    s.advance(s.holdoff);
    expect(s.ncmds()).toBe(1);
    s.advance(REBIRTH_INTERVAL_MS - s.holdoff - 1); // 5 s after the first request, less 1 ms
    expect(s.ncmds()).toBe(1);
    s.advance(1);
    expect(s.ncmds()).toBe(2);
  });

  it("stop() during the holdoff sends nothing, and a restarted adapter asks again", async () => {
    const s = await started(id);
    s.fake.push("spBv1.0/G/DDATA/E1/D1", bytes(3));
    await s.adapter.stop();
    s.advance(REBIRTH_HOLDOFF_MAX_MS);
    expect(s.ncmds()).toBe(0);
    await s.adapter.start();
    s.fake.push("spBv1.0/G/DDATA/E1/D1", bytes(4));
    s.advance(s.holdoff);
    expect(s.ncmds()).toBe(1);
  });

  it("holdoffs are spread over 0–1 s in 25 ms steps, stable per client id", () => {
    const all = Array.from({ length: 200 }, (_, i) => rebirthHoldoffMs(`tagbridge-gw-dev${i}`));
    expect(all.every((ms) => ms >= 0 && ms < 1_000 && ms % 25 === 0)).toBe(true);
    expect(new Set(all).size).toBeGreaterThan(30);
    expect(rebirthHoldoffMs("x")).toBe(rebirthHoldoffMs("x"));
  });
});
