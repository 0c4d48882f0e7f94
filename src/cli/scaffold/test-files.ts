/** Templates of the generated package's tests: the conformance kit over a fake client seam. */
import type { ScaffoldNames } from "./names.js";

/** `test/fake-client.ts`: an in-memory device behind the client seam, the only thing a unit test fakes. */
export function fakeClientTs(n: ScaffoldNames): string {
  return `/** An in-memory device behind the client seam, for unit tests of the adapter logic. */
import type { SampleValue } from "tagbridge/sdk";
import type { Client, ClientFactory } from "../src/client.js";

/** Values by address; \`down\` makes connects and reads fail as a lost connection would. */
export class FakeDevice {
  down = false;

  constructor(private readonly values: Record<string, SampleValue>) {}

  /** A client factory bound to this device, for \`${n.camel}AdapterWith()\`. */
  readonly open: ClientFactory = () => {
    let connected = false;
    const client: Client = {
      connect: async (signal) => {
        signal.throwIfAborted();
        if (this.down) throw new Error("connection refused");
        connected = true;
      },
      read: async (addresses) => {
        if (!connected || this.down) throw new Error("connection lost");
        return addresses.map((a) =>
          Object.hasOwn(this.values, a)
            ? { ok: true as const, value: this.values[a] as SampleValue }
            : { ok: false as const, status: "NoSuchAddress" },
        );
      },
      close: async () => {
        connected = false;
      },
    };
    return client;
  };
}
`;
}

/** `test/adapter.test.ts`: the SDK's conformance kit, plus one behaviour test. */
export function adapterTestTs(n: ScaffoldNames): string {
  return `/**
 * The tagbridge conformance kit run against the ${n.type} adapter over a fake client seam. Once
 * src/client.ts talks to real devices, run the same kit against a real peer (a simulator or server
 * started by the test) with \`${n.camel}Adapter\` itself.
 */
import { adapterConformance, createTestContext } from "tagbridge/sdk/testing";
import { describe, expect, it } from "vitest";
import { ${n.camel}AdapterWith } from "../src/index.js";
import { FakeDevice } from "./fake-client.js";

const device = new FakeDevice({ "temp-1": 21.5, "count-1": 7 });
const definition = ${n.camel}AdapterWith(device.open);
const settings = { host: "127.0.0.1", port: 1502 };
const points = [
  { id: "temperature", type: "float64", unit: "°C", address: "temp-1" },
  { id: "count", type: "int16", address: "count-1" },
];

describe("${n.type} adapter: conformance", () => {
  const checks = adapterConformance(definition, {
    settings,
    points,
    faultyPoints: [{ id: "missing", type: "float64", address: "no-such-address" }],
    settleMs: 50,
  });
  for (const check of checks) it(check.name, check.run);
});

describe("${n.type} adapter", () => {
  it("rejects read() when the connection drops, so the core reconnects", async () => {
    const tc = createTestContext(definition, { settings, points });
    const adapter = definition.create(tc.ctx);
    await adapter.start();
    try {
      await expect(adapter.read?.(tc.ctx.points)).resolves.toHaveLength(2);
      device.down = true;
      await expect(adapter.read?.(tc.ctx.points)).rejects.toThrow("connection lost");
    } finally {
      device.down = false;
      await adapter.stop();
    }
  });
});
`;
}
