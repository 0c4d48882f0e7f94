import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMqtt } from "../../adapters/mqtt/adapter.js";
import mqttAdapter from "../../adapters/mqtt/index.js";
import { createTestContext } from "../../src/sdk/testing.js";
import { type Broker, MOSQUITTO, startBroker } from "../peers/mqtt-broker.js";
import { instance, mosquittoPub, until } from "./helpers.js";

const point = { id: "level", type: "float64", topic: "tls/level", format: "raw", publish: "always" };

describe.skipIf(!MOSQUITTO)("TLS and authentication (mosquitto)", () => {
  let broker: Broker;
  const auth = { username: "gw", password: "s3cret" };
  beforeAll(async () => {
    broker = await startBroker({ tls: true, auth });
  });
  afterAll(async () => broker?.stop());

  it("connects over TLS with the right CA and a password, verification on", async () => {
    const t = instance({ url: broker.tlsUrl!, ...auth, tls: { caFile: broker.caFile } }, [point]);
    try {
      await t.adapter.start();
      await mosquittoPub(broker.url, "tls/level", "5", ["-u", auth.username, "-P", auth.password]);
      await until(() => t.last("level")?.value === 5, "message over TLS");
    } finally {
      await t.adapter.stop();
    }
  });

  it("refuses a broker certificate from another CA", async () => {
    const t = instance({ url: broker.tlsUrl!, ...auth, tls: { caFile: broker.otherCaFile } }, [point]);
    await expect(t.adapter.start()).rejects.toThrow(/certificate/i);
    await t.adapter.stop();
  });

  it("refuses a wrong password", async () => {
    const t = instance({ url: broker.url, username: "gw", password: "nope", connectTimeoutMs: 2000 }, [
      point,
    ]);
    await expect(t.adapter.start()).rejects.toThrow(/auth|Not authorized|Bad user/i);
    await t.adapter.stop();
  });

  it("serverVerification: insecure connects with another CA, and warns", async () => {
    const lines: string[] = [];
    const log = pino({ level: "warn" }, { write: (s: string) => void lines.push(s) });
    const tc = createTestContext(mqttAdapter, {
      settings: {
        url: broker.tlsUrl!,
        ...auth,
        tls: { caFile: broker.otherCaFile, serverVerification: "insecure" },
      },
      points: [point],
    });
    const adapter = createMqtt({ ...tc.ctx, log });
    try {
      await adapter.start();
      expect(lines.join("")).toMatch(/TLS server verification is off/);
    } finally {
      await adapter.stop();
    }
  });
});
