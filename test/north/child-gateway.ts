/**
 * A minimal gateway for the kill -9 test: a real Bus, one MQTT north sink, and a generator.
 * Env: BROKER_URL, DATA_DIR, FROM_SEQ (first seq), PERIOD_MS (a cycle of 20 readings every so
 * many ms; 0: none), SYNC_MS (buffer sync interval). Prints one JSON line every 20 ms:
 * `{ t, gen, connected, buffered }`, `gen` being the last seq handed to the bus.
 */
import { createBus } from "../../src/core/bus.js";
import { startNorth } from "../../src/north/index.js";
import { Generator, quiet, requiredEnv } from "./helpers.js";

const env = requiredEnv;
const bus = createBus();
const north = await startNorth(
  [
    {
      type: "mqtt",
      id: "uns",
      url: env("BROKER_URL"),
      clientId: "tagbridge-kill-test",
      reconnectPeriodMs: 300,
      buffer: { syncIntervalMs: Number(env("SYNC_MS")) },
    },
  ],
  { gateway: "gw1", dataDir: env("DATA_DIR"), bus, log: quiet },
);
const gen = new Generator(bus, 5, 4, Number(env("FROM_SEQ")));
const period = Number(env("PERIOD_MS"));
if (period > 0) gen.run(period);
const report = () => {
  const s = north.status()[0]!;
  process.stdout.write(
    `${JSON.stringify({ t: Date.now(), gen: gen.seq - 1, connected: s.connected, buffered: s.buffered })}\n`,
  );
};
setInterval(report, 20);
process.on("SIGTERM", () => void north.close().then(() => process.exit(0)));
