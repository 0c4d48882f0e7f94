/** Templates of the generated sink package's tests: the sink conformance kit over an in-test peer. */
import type { ScaffoldNames } from "./names.js";

/** `test/fake-peer.ts`: an in-memory peer behind the client seam, the only thing a unit test fakes. */
export function fakePeerTs(n: ScaffoldNames): string {
  return `/** An in-memory peer behind the client seam, for unit tests of the sink's lifecycle. */
import type { ReceivedReading } from "tagbridge/sdk/testing";
import type { Client, ClientFactory } from "../src/client.js";

/** Records what it receives; \`stop()\` drops every connection and refuses new ones until \`start()\`. */
export class FakePeer {
  /** Every reading received, in order, with the historical flag its message carried. */
  readonly received: ReceivedReading[] = [];
  /** Connection attempts so far. */
  contacts = 0;
  #down = false;
  readonly #drops = new Set<() => void>();

  async stop(): Promise<void> {
    this.#down = true;
    for (const drop of [...this.#drops]) drop();
  }

  async start(): Promise<void> {
    this.#down = false;
  }

  /** A client factory bound to this peer, for \`${n.camel}SinkWith()\`. */
  readonly open: ClientFactory = () => {
    let connected = false;
    let onClose: ((reason: string) => void) | undefined;
    const drop = () => {
      if (!connected) return;
      connected = false;
      this.#drops.delete(drop);
      onClose?.("connection lost");
    };
    const client: Client = {
      connect: async (signal) => {
        signal.throwIfAborted();
        this.contacts++;
        if (this.#down) throw new Error("connection refused");
        connected = true;
        this.#drops.add(drop);
      },
      send: async (payload, historical) => {
        if (!connected || this.#down) throw new Error("connection lost");
        for (const reading of JSON.parse(payload.toString("utf8")))
          this.received.push({ reading, historical });
      },
      onClose: (handler) => {
        onClose = handler;
      },
      close: async () => {
        connected = false;
        this.#drops.delete(drop);
      },
    };
    return client;
  };
}
`;
}

/** `test/sink.test.ts`: the SDK's sink conformance kit, plus one behaviour test. */
export function sinkTestTs(n: ScaffoldNames): string {
  return `/**
 * The tagbridge sink conformance kit run against the ${n.type} sink over an in-test peer behind the
 * client seam. Once src/client.ts talks to a real peer, run the same kit against one (a broker or
 * server started by the test on a free port) with \`${n.camel}Sink\` itself, stopping and starting
 * it in \`stopPeer\` / \`startPeer\`.
 */
import type { Reading } from "tagbridge/sdk";
import { createSinkTestContext, sinkConformance } from "tagbridge/sdk/testing";
import { describe, expect, it } from "vitest";
import { ${n.camel}SinkWith } from "../src/index.js";
import { FakePeer } from "./fake-peer.js";

const peer = new FakePeer();
const definition = ${n.camel}SinkWith(peer.open);
const settings = { host: "127.0.0.1", port: 1883, reconnect: { minMs: 10, maxMs: 100 } };

describe("${n.type} sink: conformance", () => {
  const checks = sinkConformance(definition, {
    settings,
    received: async () => peer.received,
    stopPeer: () => peer.stop(),
    startPeer: () => peer.start(),
    contacts: () => peer.contacts,
    settleMs: 50,
  });
  for (const check of checks) it(check.name, check.run);
});

describe("${n.type} sink", () => {
  it("reports disconnected with the reason when the connection drops, and reconnects", async () => {
    const tc = createSinkTestContext(definition, settings);
    const sink = definition.create(tc.ctx);
    await sink.start();
    try {
      await tc.waitForState("connected");
      await peer.stop();
      await tc.waitForState("disconnected");
      expect(tc.states.at(-1)?.reason).toBe("connection lost");
      const reading: Reading = {
        gateway: "gw",
        device: "d",
        point: "p",
        value: 1,
        type: "float64",
        quality: "good",
        ts: "2025-01-01T00:00:00.000Z",
        receivedAt: "2025-01-01T00:00:00.000Z",
        protocol: "simulator",
        seq: 1,
      };
      await expect(sink.publish([reading], { historical: false })).rejects.toThrow("not connected");
      await peer.start();
      await tc.waitForState("connected");
    } finally {
      await peer.start();
      await sink.stop();
    }
  });
});
`;
}
