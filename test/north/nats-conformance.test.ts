/**
 * The sink conformance kit (tagbridge/sdk/testing) run for the built-in nats sink against a real
 * nats-server with JetStream (test/peers/nats.ts, local binary on a free port). What the peer
 * received is read back from the stream itself, in stream order: the stream keeps every message,
 * across the kit's server outages too (file store), so nothing can be missed by a late reader.
 */
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, it } from "vitest";
import { natsSink } from "../../src/north/nats.js";
import { bufferedReplayCheck } from "../../src/north/sink-harness.js";
import type { Reading } from "../../src/schema/reading.js";
import { sinkConformance } from "../../src/sdk/sink-conformance.js";
import type { ReceivedReading } from "../../src/sdk/sink-conformance-rules.js";
import { until } from "../helpers/until.js";
import { type NatsServer, startNats } from "../peers/nats.js";

const STREAM = `KIT_${process.pid}`;

let server: NatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  server = await startNats({ restartable: true });
  nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  jsm = await jetstreamManager(nc, { timeout: 2_000 });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

/** What the stream holds, decoded in stream order; read on from the last message seen. */
const received: ReceivedReading[] = [];
let lastStreamSeq = 0;
async function readOn(): Promise<void> {
  let last: number;
  try {
    last = (await jsm.streams.info(STREAM)).state.last_seq;
  } catch (error) {
    // The sink creates the stream on its first connection; before that nothing was received.
    if ((error as { name?: string }).name === "StreamNotFoundError") return;
    throw error;
  }
  for (let seq = lastStreamSeq + 1; seq <= last; seq++) {
    const m = await jsm.streams.getMessage(STREAM, { seq });
    if (m) received.push({ reading: m.json<Reading>(), historical: false });
    lastStreamSeq = seq;
  }
}
/**
 * Everything the stream holds. Right after a server restart the reader's own connection may still
 * be reconnecting (its requests time out): read again until a read succeeds, so a count is never
 * taken from a partial read.
 */
async function readStream(): Promise<readonly ReceivedReading[]> {
  const errors: string[] = [];
  await until(
    "a read of the stream",
    () =>
      readOn().then(
        () => true,
        (error: Error) => void errors.push(error.message),
      ),
    15_000,
    () => errors.slice(-3),
  );
  return received;
}

/** Client connections the server has accepted since it (re)started. */
async function totalConnections(): Promise<number> {
  const varz = (await (await fetch(`${server.monitorUrl}/varz`)).json()) as { total_connections: number };
  return varz.total_connections;
}

describe("nats sink: conformance (real nats-server with JetStream)", () => {
  const fixture = {
    get settings() {
      return { servers: [server.url], stream: { name: STREAM } };
    },
    received: readStream,
    stopPeer: () => server.stopServer(),
    startPeer: () => server.startServer(),
    contacts: totalConnections,
    // The client reconnects every second (reconnectTimeWait 1000), then checks the stream.
    connectTimeoutMs: 10_000,
  };
  for (const check of [...sinkConformance(natsSink, fixture), bufferedReplayCheck(natsSink, fixture)])
    it(check.name, check.run, 30_000);
});
