/**
 * A minimal Sparkplug edge node for the kill -9 test: a real Bus and one Sparkplug north sink
 * (group G, node N). Env: BROKER_URL, DATA_DIR. Publishes a reading of d1/t every 50 ms and prints
 * one JSON line every 20 ms: `{ connected }`.
 */
import { createBus } from "../../src/core/bus.js";
import { startNorth } from "../../src/north/index.js";
import { quiet, reading, requiredEnv } from "./helpers.js";

const env = requiredEnv;
const bus = createBus();
const north = await startNorth(
  [
    {
      type: "sparkplug",
      id: "spb",
      url: env("BROKER_URL"),
      groupId: "G",
      edgeNodeId: "N",
      clientId: `tagbridge-spb-kill-${process.pid}`,
      reconnectPeriodMs: 300,
      keepaliveSec: 5,
    },
  ],
  { gateway: "gw1", dataDir: env("DATA_DIR"), bus, log: quiet },
);
let seq = 1;
setInterval(() => bus.publish([reading(seq++, "d1", "t", seq)]), 50);
setInterval(
  () => process.stdout.write(`${JSON.stringify({ connected: north.status()[0]!.connected })}\n`),
  20,
);
