/**
 * The MQTT adapter definition: JSON/plain topics with templates and wildcards, Sparkplug B edge
 * nodes, and writes as published commands. A push adapter: nothing is polled.
 */
import { compileTemplate } from "../../protocols/mqtt/topic.js";
import { type ConfigProblem, defineAdapter } from "../../src/sdk/index.js";
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
  check({ connection, points }) {
    const problems: ConfigProblem[] = [];
    // mqtt.js refuses every connect with a password and no user name (MQTT 3.1.1 §3.1.2.9).
    if (connection.password !== undefined && connection.username === undefined)
      problems.push({ path: ["connection", "password"], message: "needs connection.username as well" });
    points.forEach((point, i) => {
      if (connection.sparkplug) return; // Sparkplug points are named by `metric` (or their id)
      if (!point.topic) {
        problems.push({
          path: ["points", i, "topic"],
          message: "is required unless the connection is in Sparkplug mode",
        });
        return;
      }
      try {
        compileTemplate(point.topic, connection.vars ?? {});
      } catch (error) {
        problems.push({
          path: ["points", i, "topic"],
          message: error instanceof Error ? error.message : String(error),
        });
      }
    });
    return problems;
  },
  create: (ctx) => createMqtt(ctx),
  async simulate({ port }) {
    const { startMqttSimulator } = await import("./simulate.js");
    return startMqttSimulator({ port: port ?? 1884 });
  },
});

export default mqttAdapter;
