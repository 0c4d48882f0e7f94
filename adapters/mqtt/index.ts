/**
 * The MQTT adapter definition: JSON/plain topics with templates and wildcards, Sparkplug B edge
 * nodes, and writes as published commands. A push adapter: nothing is polled.
 */
import { defineAdapter } from "../../src/sdk/index.js";
import { createMqtt } from "./adapter.js";
import { MqttConnectionSchema, MqttPointSchema } from "./config.js";

/** The `mqtt` adapter type. */
export const mqttAdapter = defineAdapter({
  type: "mqtt",
  description:
    "MQTT 3.1.1/5 broker client: JSON or plain payloads on topic templates with wildcards, Sparkplug B edge nodes, commands as publishes.",
  sdk: "^1.0.0",
  connectionSchema: MqttConnectionSchema,
  pointSchema: MqttPointSchema,
  capabilities: ["subscribe", "write"],
  polled: () => false,
  create: (ctx) => createMqtt(ctx),
  async simulate({ port }) {
    const { startMqttSimulator } = await import("./simulate.js");
    return startMqttSimulator({ port: port ?? 1884 });
  },
});

export default mqttAdapter;
