/**
 * `tagbridge adapter new NAME`: writes a ready-to-build adapter package (definition, TypeBox
 * config, client seam, README with the fixed sections, example config, a test running the
 * conformance kit) that depends on tagbridge only through `tagbridge/sdk`.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import type { Command } from "commander";
import { exampleYaml, readme } from "./scaffold/docs-files.js";
import { scaffoldNames } from "./scaffold/names.js";
import { gitignore, packageJson, tsconfig, tsconfigBuild } from "./scaffold/package-files.js";
import { adapterTs, clientTs, configTs, indexTs } from "./scaffold/source-files.js";
import { adapterTestTs, fakeClientTs } from "./scaffold/test-files.js";

/** What `scaffoldAdapter` writes and where. */
export interface ScaffoldOptions {
  /** Adapter type, e.g. `acme-plc`. */
  name: string;
  /** Target directory; default `./tagbridge-adapter-<name>` under the working directory. */
  dir?: string;
  /** npm package name; default `tagbridge-adapter-<name>`. */
  packageName?: string;
}

/** The generated package: its directory and the files written, relative to it. */
export interface ScaffoldResult {
  dir: string;
  files: string[];
}

/** Writes a new adapter package; throws when the name is invalid or the directory is not empty. */
export function scaffoldAdapter(options: ScaffoldOptions): ScaffoldResult {
  const n = scaffoldNames(options.name, options.packageName);
  return writePackage(options.dir ?? n.packageName, {
    "package.json": packageJson(n),
    "tsconfig.json": tsconfig(),
    "tsconfig.build.json": tsconfigBuild(),
    ".gitignore": gitignore(),
    "README.md": readme(n),
    "example.yaml": exampleYaml(n),
    "src/index.ts": indexTs(n),
    "src/config.ts": configTs(n),
    "src/client.ts": clientTs(n),
    "src/adapter.ts": adapterTs(n),
    "test/adapter.test.ts": adapterTestTs(n),
    "test/fake-client.ts": fakeClientTs(n),
  });
}

/**
 * Writes `files` (path relative to the package → text) into `dir`, resolved against the working
 * directory; throws when `dir` exists and is not empty, before writing anything.
 */
export function writePackage(dir: string, files: Record<string, string>): ScaffoldResult {
  const root = resolve(dir);
  if (existsSync(root) && readdirSync(root).length > 0)
    throw new Error(`${root} exists and is not empty; choose another --dir`);
  for (const [path, text] of Object.entries(files)) {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return { dir: root, files: Object.keys(files) };
}

/** What `tagbridge <kind> new` needs to know of one kind of plugin package. */
export interface ScaffoldCommand {
  kind: "adapter" | "sink";
  /** One line of the parent command, e.g. "tools for writing adapters". */
  description: string;
  /** An example type name for the help text. */
  example: string;
  scaffold(options: ScaffoldOptions): ScaffoldResult;
  /** The guide file in the tagbridge repository. */
  guide: string;
}

/** Adds `tagbridge <kind> new NAME [--dir DIR] [--package NAME]` to the program. */
export function registerScaffoldCommand(program: Command, c: ScaffoldCommand): void {
  program
    .command(c.kind)
    .description(c.description)
    .command("new")
    .description(`create a new ${c.kind} package that builds against tagbridge/sdk`)
    .argument("<name>", `${c.kind} type, e.g. ${c.example} (lowercase letters, digits, dashes)`)
    .option("--dir <dir>", `directory to create (default ./tagbridge-${c.kind}-<name>)`)
    .option("--package <name>", `npm package name (default tagbridge-${c.kind}-<name>)`)
    .action((name: string, opts: { dir?: string; package?: string }) => {
      let result: ScaffoldResult;
      try {
        result = c.scaffold({
          name,
          ...(opts.dir !== undefined ? { dir: opts.dir } : {}),
          ...(opts.package !== undefined ? { packageName: opts.package } : {}),
        });
      } catch (error) {
        console.error(`cannot create ${c.kind}: ${error instanceof Error ? error.message : error}`);
        process.exitCode = 1;
        return;
      }
      const where = relative(process.cwd(), result.dir) || ".";
      console.log(
        [
          `created ${where}:`,
          ...result.files.map((f) => `  ${f}`),
          "next:",
          `  cd ${where} && npm install && npm test`,
          "  implement src/client.ts, then fill in the README's TODOs",
          `  guide: ${c.guide} in the tagbridge repository`,
        ].join("\n"),
      );
    });
}

/** Adds `tagbridge adapter new NAME [--dir DIR] [--package NAME]` to the program. */
export function registerAdapterCommand(program: Command): void {
  registerScaffoldCommand(program, {
    kind: "adapter",
    description: "tools for writing adapters",
    example: "acme-plc",
    scaffold: scaffoldAdapter,
    guide: "docs/writing-an-adapter.md",
  });
}
