/**
 * Transports other than plain TCP, against real brokers: MQTT over WebSocket (ws:// and wss://) and
 * TLS with a client certificate (mosquitto `require_certificate true`). Messages are published by
 * mosquitto_pub on the broker's plain listener, so they cross from one transport to the other.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, MOSQUITTO, startBroker } from "../peers/mqtt-broker.js";
import { instance, mosquittoPub, recorder, until } from "./helpers.js";

const points = [
  { id: "temp", type: "float64", topic: "ws/{device}/telemetry", path: "$.temp", publish: "always" },
  { id: "rpm", type: "uint16", topic: "ws/{device}/telemetry", path: "$.motor.rpm", publish: "always" },
  {
    id: "setpoint",
    type: "float64",
    access: "readwrite",
    topic: "ws/{device}/setpoint",
    format: "raw",
    commandTopic: "ws/{device}/setpoint/set",
  },
];
const level = { id: "level", type: "float64", topic: "mtls/level", format: "raw", publish: "always" };

describe.skipIf(!MOSQUITTO)("MQTT over WebSocket and client-certificate TLS (mosquitto)", () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await startBroker({ websockets: true, tls: true, clientCertificates: true });
  });
  afterAll(async () => broker?.stop());

  for (const version of ["3.1.1", "5"] as const)
    it(`ws://: JSON ingest and a command, MQTT ${version}`, async () => {
      expect(broker.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
      const t = instance({ url: broker.wsUrl!, protocolVersion: version }, points);
      const rec = await recorder(broker.url, "ws/+/setpoint/set");
      try {
        await t.adapter.start();
        const body = JSON.stringify({ temp: 21.5, motor: { rpm: 1450 } });
        await mosquittoPub(broker.url, "ws/press-7/telemetry", body);
        await until(() => t.last("rpm"), "JSON over ws");
        expect(t.last("temp")).toMatchObject({
          value: 21.5,
          quality: "good",
          address: "ws/press-7/telemetry",
        });
        expect(t.last("rpm")).toMatchObject({ value: 1450, quality: "good" });
        await mosquittoPub(broker.url, "ws/oven-2/setpoint", "180");
        await until(() => t.last("setpoint"), "setpoint");
        await expect(t.adapter.write(t.point("setpoint"), 185.5)).resolves.toEqual({ status: "Published" });
        const set = await until(
          () => rec.got.find((m) => m.topic === "ws/oven-2/setpoint/set"),
          "command published over ws",
        );
        expect(JSON.parse(set.payload.toString())).toMatchObject({ point: "setpoint", value: 185.5 });
      } finally {
        await t.adapter.stop();
        await rec.close();
      }
    });

  it("wss://: ingests with the right CA, verification on", async () => {
    const t = instance({ url: broker.wssUrl!, tls: { caFile: broker.caFile } }, points);
    try {
      await t.adapter.start();
      await mosquittoPub(broker.url, "ws/p/telemetry", JSON.stringify({ temp: 3.5 }));
      await until(() => t.last("temp")?.value === 3.5, "JSON over wss");
    } finally {
      await t.adapter.stop();
    }
  });

  it("wss://: refuses a broker certificate from another CA", async () => {
    const t = instance(
      { url: broker.wssUrl!, tls: { caFile: broker.otherCaFile }, connectTimeoutMs: 3000 },
      points,
    );
    await expect(t.adapter.start()).rejects.toThrow(/self-signed certificate|certificate/i);
    await t.adapter.stop();
  });

  it("client certificate: connects with a certificate the broker's CA signed, and ingests", async () => {
    const t = instance(
      {
        url: broker.mtlsUrl!,
        tls: { caFile: broker.caFile, certFile: broker.clientCertFile, keyFile: broker.clientKeyFile },
      },
      [level],
    );
    try {
      await t.adapter.start();
      await mosquittoPub(broker.url, "mtls/level", "12.5");
      await until(() => t.last("level")?.value === 12.5, "message over client-certificate TLS");
      expect(t.last("level")).toMatchObject({ quality: "good", address: "mtls/level" });
    } finally {
      await t.adapter.stop();
    }
  });

  it("client certificate: refused without one", async () => {
    const t = instance({ url: broker.mtlsUrl!, tls: { caFile: broker.caFile }, connectTimeoutMs: 3000 }, [
      level,
    ]);
    await expect(t.adapter.start()).rejects.toThrow(/certificate required/);
    await t.adapter.stop();
    expect(t.states.filter((s) => s.state === "connected")).toEqual([]);
  });

  it("client certificate: refused when another CA signed it", async () => {
    const t = instance(
      {
        url: broker.mtlsUrl!,
        tls: {
          caFile: broker.caFile,
          certFile: broker.otherClientCertFile,
          keyFile: broker.otherClientKeyFile,
        },
        connectTimeoutMs: 3000,
      },
      [level],
    );
    await expect(t.adapter.start()).rejects.toThrow(/unknown ca/);
    await t.adapter.stop();
  });
});

describe("MQTT over WebSocket, in-process fallback broker (aedes)", () => {
  it("ws://: JSON ingest", async () => {
    const aedes = await startBroker({ aedes: true, websockets: true });
    const t = instance({ url: aedes.wsUrl! }, points);
    try {
      await t.adapter.start();
      await mosquittoPub(aedes.url, "ws/a1/telemetry", JSON.stringify({ temp: 7.25, motor: { rpm: 3 } }));
      await until(() => t.last("rpm")?.value === 3, "JSON over ws via aedes");
      expect(t.last("temp")).toMatchObject({ value: 7.25, quality: "good", address: "ws/a1/telemetry" });
    } finally {
      await t.adapter.stop();
      await aedes.stop();
    }
  });
});
