import { describe, expect, it } from "vitest";
import { createTestContext } from "../../src/sdk/testing.js";
import { clientOptions, createMqtt } from "./adapter.js";
import type { MqttClient, MqttClientOptions, MqttMessage } from "./client.js";
import mqttAdapter from "./index.js";

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
    push: (topic: string, p: string) => message({ topic, payload: Buffer.from(p) }),
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
