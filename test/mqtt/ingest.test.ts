import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, startBroker } from "../peers/mqtt-broker.js";
import { instance, mosquittoPub, recorder, until } from "./helpers.js";

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => broker?.stop());

const points = [
  {
    id: "temp",
    type: "float64",
    topic: "plant/{line}/{device}/telemetry",
    path: "$.temp",
    timestampPath: "$.ts",
    publish: "always",
  },
  {
    id: "rpm",
    type: "uint16",
    topic: "plant/{line}/{device}/telemetry",
    path: "$.motor.rpm",
    qualityPath: "$.motor.ok",
    publish: "always",
  },
  {
    id: "second",
    type: "int32",
    topic: "plant/{line}/{device}/telemetry",
    path: "$.values[?(@.name==='b')].v",
    publish: "always",
  },
  { id: "level", type: "float32", topic: "raw/level", format: "raw", publish: "always" },
  { id: "running", type: "bool", topic: "raw/running", format: "raw", publish: "always" },
  { id: "any_temp", type: "float64", topic: "fleet/+/temp", format: "raw", publish: "always" },
  {
    id: "setpoint",
    type: "float64",
    access: "readwrite",
    topic: "plant/{line}/{device}/setpoint",
    format: "raw",
    commandTopic: "plant/{line}/{device}/setpoint/set",
  },
  {
    id: "mode",
    type: "string",
    access: "readwrite",
    topic: "cmd/mode/state",
    format: "raw",
    commandTopic: "cmd/{device}/mode",
    commandFormat: "raw",
  },
];

for (const version of ["3.1.1", "5"] as const) {
  describe(`JSON and raw ingest, MQTT ${version}`, () => {
    const s = () =>
      instance(
        {
          url: broker.url,
          protocolVersion: version,
          vars: { line: "L1" },
          maxPayloadBytes: 2048,
          maxTopicsPerPoint: 2,
        },
        points,
      );
    let t: ReturnType<typeof s>;
    beforeAll(async () => {
      t = s();
      await t.adapter.start();
    });
    afterAll(async () => t?.adapter.stop());

    it("one JSON message yields many points, with template, JSONPath, timestamp and quality", async () => {
      const body = {
        temp: 21.5,
        ts: "2025-03-04T05:06:07.000Z",
        motor: { rpm: 1450, ok: false },
        values: [
          { name: "a", v: 1 },
          { name: "b", v: -2 },
        ],
      };
      await mosquittoPub(broker.url, "plant/L1/press-7/telemetry", JSON.stringify(body));
      await until(() => t.last("second"), "samples");
      expect(t.last("temp")).toEqual({
        point: "temp",
        value: 21.5,
        quality: "good",
        sourceTs: body.ts,
        address: "plant/L1/press-7/telemetry",
      });
      expect(t.last("rpm")).toMatchObject({ value: 1450, quality: "bad", status: "ReportedByDevice" });
      expect(t.last("second")).toMatchObject({ value: -2, quality: "good" });
    });

    it("absent optional fields fall back: no timestamp → receipt time, no quality → good; a missing value stays bad", async () => {
      const before = t.emitted.length;
      await mosquittoPub(
        broker.url,
        "plant/L1/press-7/telemetry",
        JSON.stringify({ temp: 8, motor: { rpm: 9 } }),
      );
      await until(() => t.emitted.slice(before).find((x) => x.point === "second"), "samples");
      expect(t.last("temp")).toEqual({
        point: "temp",
        value: 8,
        quality: "good",
        address: "plant/L1/press-7/telemetry",
      });
      expect(t.last("rpm")).toEqual({
        point: "rpm",
        value: 9,
        quality: "good",
        address: "plant/L1/press-7/telemetry",
      });
      expect(t.last("second")).toMatchObject({ value: null, quality: "bad", status: "PathNotFound" });
    });

    it("vars fix template levels: another line is not subscribed", async () => {
      const before = t.emitted.length;
      await mosquittoPub(broker.url, "plant/L2/press-7/telemetry", JSON.stringify({ temp: 99 }));
      await mosquittoPub(broker.url, "raw/level", "3.25");
      await until(() => t.last("level"), "level");
      expect(t.emitted.slice(before).some((x) => x.value === 99)).toBe(false);
    });

    it("raw payloads are read as the declared type", async () => {
      await mosquittoPub(broker.url, "raw/running", "true");
      await until(() => t.last("running"), "running");
      expect(t.last("level")).toMatchObject({ value: 3.25, quality: "good", address: "raw/level" });
      expect(t.last("running")).toMatchObject({ value: true, quality: "good" });
    });

    it("bad input gives bad samples with a status, counted, and the client keeps running", async () => {
      await mosquittoPub(broker.url, "plant/L1/p/telemetry", "this is not json");
      await until(() => t.last("temp")?.status === "NotJson", "NotJson");
      await mosquittoPub(broker.url, "plant/L1/p/telemetry", JSON.stringify({ temp: 1, ts: 5 }));
      await until(() => t.last("rpm")?.status === "PathNotFound", "PathNotFound");
      await mosquittoPub(broker.url, "raw/running", "maybe");
      await until(() => t.last("running")?.status === "TypeMismatch", "TypeMismatch");
      await mosquittoPub(broker.url, "raw/level", "9".repeat(3000));
      await until(() => t.last("level")?.status === "PayloadTooLarge", "PayloadTooLarge");
      expect(t.metrics.counters.get("mqtt_payload_errors")).toBeGreaterThanOrEqual(5);
      expect(t.metrics.counters.get("mqtt_oversized_payloads")).toBe(1);
      await mosquittoPub(broker.url, "raw/level", "7");
      await until(() => t.last("level")?.value === 7, "recovery after bad input");
    });

    it("a wildcard point carries each topic as address, bounded by maxTopicsPerPoint", async () => {
      for (const [m, v] of [
        ["m1", "1"],
        ["m2", "2"],
        ["m3", "3"],
        ["m1", "4"],
      ] as const)
        await mosquittoPub(broker.url, `fleet/${m}/temp`, v);
      await until(() => t.last("any_temp")?.value === 4, "fleet samples");
      const got = t.emitted.filter((x) => x.point === "any_temp").map((x) => [x.address, x.value]);
      expect(got).toEqual([
        ["fleet/m1/temp", 1],
        ["fleet/m2/temp", 2],
        ["fleet/m1/temp", 4],
      ]);
      expect(t.metrics.counters.get("mqtt_topic_limit_drops")).toBe(1);
    });

    it("writes publish to the command topic, JSON or raw; read-only points refuse", async () => {
      const rec = await recorder(broker.url, "#");
      try {
        await mosquittoPub(broker.url, "plant/L1/oven-2/setpoint", "180");
        await until(() => t.last("setpoint"), "setpoint");
        await expect(t.adapter.write(t.point("setpoint"), 185.5)).resolves.toEqual({ status: "Published" });
        await expect(t.adapter.write(t.point("mode"), "auto")).resolves.toEqual({ status: "Published" });
        await expect(t.adapter.write(t.point("temp"), 1)).rejects.toThrow(/read-only/);
        await expect(t.adapter.write(t.point("setpoint"), "hot")).rejects.toThrow(/cannot write/);
        const set = await until(
          () => rec.got.find((m) => m.topic === "plant/L1/oven-2/setpoint/set"),
          "command",
        );
        expect(JSON.parse(set.payload.toString())).toMatchObject({ point: "setpoint", value: 185.5 });
        const mode = await until(
          () => rec.got.find((m) => m.topic === "cmd/test-device/mode"),
          "raw command",
        );
        expect(mode.payload.toString()).toBe("auto");
      } finally {
        await rec.close();
      }
    });
  });
}

describe("connection", () => {
  it("start() rejects when no broker listens, and the adapter reports nothing", async () => {
    const t = instance({ url: "mqtt://127.0.0.1:1", connectTimeoutMs: 1000 }, [points[0]]);
    await expect(t.adapter.start()).rejects.toThrow();
    await t.adapter.stop();
    expect(t.states).toEqual([]);
  });

  it("a broker restart is reported disconnected, then connected, and messages flow again", async () => {
    const own = await startBroker();
    const t = instance({ url: own.url, reconnectPeriodMs: 200 }, [points[3]]);
    try {
      await t.adapter.start();
      await own.restart(300);
      await until(() => t.states.some((s) => s.state === "disconnected"), "disconnected", 5_000);
      await until(() => t.states.at(-1)?.state === "connected", "connected again", 8_000);
      await mosquittoPub(own.url, "raw/level", "42");
      await until(() => t.last("level")?.value === 42, "message after reconnect");
    } finally {
      await t.adapter.stop();
      await own.stop();
    }
  });

  it("a persistent session keeps QoS 1 messages published while the gateway was away", async () => {
    const settings = {
      url: broker.url,
      session: "persistent",
      clientId: "tb-persist-test",
      protocolVersion: "5",
      sessionExpirySec: 60,
    };
    const first = instance(settings, [points[3]]);
    await first.adapter.start();
    await first.adapter.stop();
    await mosquittoPub(broker.url, "raw/level", "11");
    const second = instance(settings, [points[3]]);
    try {
      await second.adapter.start();
      await until(() => second.last("level")?.value === 11, "queued message");
    } finally {
      await second.adapter.stop();
    }
  });
});

describe("in-process fallback broker (aedes)", () => {
  it("ingests from aedes and follows its restart", async () => {
    const aedes = await startBroker({ aedes: true });
    const t = instance({ url: aedes.url, reconnectPeriodMs: 200 }, [points[3]]);
    try {
      expect(aedes.kind).toBe("aedes");
      await t.adapter.start();
      await mosquittoPub(aedes.url, "raw/level", "1.5");
      await until(() => t.last("level")?.value === 1.5, "message via aedes");
      await aedes.restart(200);
      await until(() => t.states.at(-1)?.state === "connected" && t.states.length >= 2, "reconnected", 8_000);
      await mosquittoPub(aedes.url, "raw/level", "2.5");
      await until(() => t.last("level")?.value === 2.5, "message after restart");
    } finally {
      await t.adapter.stop();
      await aedes.stop();
    }
  });
});
