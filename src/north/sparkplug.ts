/**
 * The `sparkplug` sink type (a Sparkplug B 3.0 edge node, sparkplug-node.ts). The definition is
 * all a gateway without a Sparkplug sink loads: the edge node and its protobuf codec are imported
 * when the first one starts.
 */
import { lazyImport } from "../sdk/lazy.js";
import { defineSink, type Sink, type SinkContext } from "../sdk/sink.js";
import { type SparkplugSettings, SparkplugSettingsSchema } from "./sparkplug-config.js";

const edgeNode = lazyImport(() => import("./sparkplug-node.js"));

/** The sparkplug sink type: a Sparkplug B 3.0 edge node; replayed data is marked is_historical. */
export const sparkplugSink = defineSink({
  type: "sparkplug",
  description: "Sparkplug B 3.0 edge node.",
  sdk: "^1.0.0",
  settingsSchema: SparkplugSettingsSchema,
  capabilities: ["ack", "replay"],
  // ack only with qos: 1 (births and data QoS 0 by default, as Sparkplug specifies).
  capabilitiesFor: (settings) => (settings.qos === "1" ? ["ack", "replay"] : ["replay"]),
  create: createSparkplugSink,
});

/**
 * The edge node, created by `start()` once its module is loaded; until then `publish()` refuses
 * (the runner buffers), and a `stop()` meanwhile means it is never started.
 */
export function createSparkplugSink(ctx: SinkContext<SparkplugSettings>): Sink {
  let sink: Sink | undefined;
  let stopped = false;
  return {
    // As the edge node's: publish() hands every message to the client before its first await.
    pipelined: true,
    async start() {
      const { createEdgeNode } = await edgeNode.load();
      if (stopped) return;
      sink ??= createEdgeNode(ctx);
      await sink.start();
    },
    async stop() {
      stopped = true;
      await sink?.stop();
    },
    publish(readings, options) {
      if (!sink) return Promise.reject(new Error("Sparkplug sink not started"));
      return sink.publish(readings, options);
    },
  };
}
