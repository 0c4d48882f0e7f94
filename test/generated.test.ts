import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generatedFiles, ROOT } from "../scripts/generated.js";

const files = await generatedFiles();

describe("generated files match the code (run `npm run generate` after changing a schema)", () => {
  for (const [path, content] of files) {
    it(path, () => {
      expect(readFileSync(join(ROOT, path), "utf8")).toBe(content);
    });
  }
});
