/**
 * `tagbridge sink new NAME`: writes a ready-to-build sink package (definition, TypeBox settings,
 * client seam, lifecycle with reconnection, README, example config, a test running the sink
 * conformance kit against an in-test peer) that depends on tagbridge only through `tagbridge/sdk`.
 * The manifest, build settings and file writing are the adapter scaffold's.
 */
import type { Command } from "commander";
import {
  registerScaffoldCommand,
  type ScaffoldOptions,
  type ScaffoldResult,
  writePackage,
} from "../scaffold.js";
import { scaffoldNames, TYPE_NAME } from "./names.js";
import { gitignore, packageJson, tsconfig, tsconfigBuild } from "./package-files.js";
import { sinkExampleYaml, sinkReadme } from "./sink-docs-files.js";
import { sinkClientTs, sinkConfigTs, sinkIndexTs, sinkTs } from "./sink-source-files.js";
import { fakePeerTs, sinkTestTs } from "./sink-test-files.js";

/** Writes a new sink package; throws when the name is invalid or the directory is not empty. */
export function scaffoldSink(options: ScaffoldOptions): ScaffoldResult {
  if (!TYPE_NAME.test(options.name))
    throw new Error(
      `sink name '${options.name}' must be lowercase letters, digits and dashes, starting with a letter`,
    );
  const n = scaffoldNames(options.name, options.packageName ?? `tagbridge-sink-${options.name}`);
  const manifest = JSON.parse(packageJson(n)) as Record<string, unknown>;
  manifest.description = `tagbridge north sink for ${n.type}`;
  manifest.keywords = ["tagbridge", "tagbridge-sink"];
  return writePackage(options.dir ?? n.packageName, {
    "package.json": `${JSON.stringify(manifest, null, 2)}\n`,
    "tsconfig.json": tsconfig(),
    "tsconfig.build.json": tsconfigBuild(),
    ".gitignore": gitignore(),
    "README.md": sinkReadme(n),
    "example.yaml": sinkExampleYaml(n),
    "src/index.ts": sinkIndexTs(n),
    "src/config.ts": sinkConfigTs(n),
    "src/client.ts": sinkClientTs(n),
    "src/sink.ts": sinkTs(n),
    "test/sink.test.ts": sinkTestTs(n),
    "test/fake-peer.ts": fakePeerTs(n),
  });
}

/** Adds `tagbridge sink new NAME [--dir DIR] [--package NAME]` to the program. */
export function registerSinkCommand(program: Command): void {
  registerScaffoldCommand(program, {
    kind: "sink",
    description: "tools for writing north sinks",
    example: "acme-historian",
    scaffold: scaffoldSink,
    guide: "docs/writing-a-sink.md",
  });
}
