/**
 * The simulator adapter definition: a virtual device whose points follow generators (sine, ramp,
 * random walk, square, counter, constant, fault). Used by the demo, the tests, and as the model
 * every other adapter copies.
 */
import { defineAdapter } from "../../src/sdk/index.js";
import { createSimulator } from "./adapter.js";
import { SimulatorConnectionSchema, SimulatorPointSchema } from "./config.js";

/** The `simulator` adapter type. */
export const simulatorAdapter = defineAdapter({
  type: "simulator",
  description:
    "Simulated device: generated values (sine, ramp, random walk, square, counter, constant, fault), writable points, outages.",
  sdk: "^1.0.0",
  connectionSchema: SimulatorConnectionSchema,
  pointSchema: SimulatorPointSchema,
  capabilities: ["read", "write"],
  create: createSimulator,
});

export default simulatorAdapter;
