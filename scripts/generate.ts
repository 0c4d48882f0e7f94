/** Writes every generated file (JSON Schemas in config/, tables in READMEs). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { generatedFiles, ROOT } from "./generated.js";

for (const [path, content] of await generatedFiles()) {
  writeFileSync(join(ROOT, path), content);
  console.log(`wrote ${path}`);
}
