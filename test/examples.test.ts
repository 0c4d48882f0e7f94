import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load.js";
import { AdapterRegistry } from "../src/core/registry.js";
import { ROOT } from "./helpers/cli.js";

const examples = [
  ...readdirSync(join(ROOT, "config"))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => `config/${f}`),
  ...readdirSync(join(ROOT, "adapters"), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `adapters/${d.name}/example.yaml`),
];

describe("every example config is valid", () => {
  const registry = new AdapterRegistry();
  it("finds the examples", () => expect(examples.length).toBeGreaterThanOrEqual(2));
  for (const file of examples) {
    it(file, async () => {
      const result = await loadConfig(join(ROOT, file), (t) => registry.get(t), {
        knownTypes: () => registry.list().map((d) => d.type),
      });
      expect(result.ok ? [] : result.errors).toEqual([]);
    });
  }
});
