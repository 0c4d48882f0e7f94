/**
 * The install paths people use, for real (issue 20, item 4): the `npm pack` tarball installed with
 * `npm install -g` into a clean prefix (its `tagbridge --version`, `validate` of an example shipped
 * in the package, and `tagbridge demo` until /healthz answers, then a clean stop on SIGTERM), and
 * installed into a project, where `npx tagbridge` runs. Both installs fetch the production
 * dependencies through npm (its cache first) and compile better-sqlite3, since no prebuilt binary
 * can be downloaded here; they run side by side and print how long they took.
 *
 * The tarball is packed with --ignore-scripts from the dist/ that `npm ci` (prepare) built, so
 * this test needs a build; it fails saying so when dist/ is missing.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { satisfies } from "semver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers/cli.js";
import { until } from "./helpers/until.js";

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  version: string;
  engines: { node: string };
};
const work = mkdtempSync(join(tmpdir(), "tagbridge-install-"));
const globalPrefix = join(work, "global");
const project = join(work, "project");
/** The Node running this test first on PATH, so npm, npx and the installed bin all use it. */
const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}`, NO_COLOR: "1" };
const bin = join(globalPrefix, "bin", "tagbridge");
const installed = join(globalPrefix, "lib", "node_modules", "tagbridge");

interface Install {
  output: string;
  seconds: number;
}
let globalInstall: Install;
let projectInstall: Install;

async function npm(args: string[], cwd: string): Promise<Install> {
  const started = Date.now();
  const { stdout, stderr } = await run("npm", args, { cwd, env, maxBuffer: 64 << 20 });
  return { output: stdout + stderr, seconds: Math.round((Date.now() - started) / 1000) };
}

beforeAll(async () => {
  expect(existsSync(join(ROOT, "dist/src/cli/main.js")), "dist/ is missing: run `npm run build` first").toBe(
    true,
  );
  const packed = await npm(["pack", "--ignore-scripts", "--silent", "--pack-destination", work], ROOT);
  const tarball = join(work, packed.output.trim().split("\n").at(-1)!);
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "plant-gateway", private: true }));
  const flags = ["--no-audit", "--no-fund", "--prefer-offline"];
  [globalInstall, projectInstall] = await Promise.all([
    npm(["install", "-g", "--prefix", globalPrefix, ...flags, tarball], work),
    npm(["install", ...flags, tarball], project),
  ]);
  process.stderr.write(
    `install on Node ${process.version}: npm install -g ${globalInstall.seconds} s, into a project ${projectInstall.seconds} s (side by side)\n`,
  );
}, 900_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("npm install -g of the packed tarball", () => {
  it("installs without engine warnings on a supported Node and with better-sqlite3 built for it", async () => {
    if (satisfies(process.version, pkg.engines.node)) expect(globalInstall.output).not.toMatch(/EBADENGINE/);
    const { stdout } = await run(
      process.execPath,
      ["-e", "new (require('better-sqlite3'))(':memory:').close(); console.log('ok')"],
      { cwd: installed, env },
    );
    expect(stdout.trim()).toBe("ok");
  });

  it("tagbridge --version prints the package version", async () => {
    const { stdout } = await run(bin, ["--version"], { env });
    expect(stdout.trim()).toBe(pkg.version);
  });

  it("tagbridge validate accepts an example the package ships, and rejects a broken config", async () => {
    const example = join(installed, "adapters", "modbus", "example.yaml");
    const { stdout } = await run(bin, ["validate", example], { env });
    expect(stdout).toMatch(/: valid \(gateway 'modbus-gw'/);
    const broken = join(work, "broken.yaml");
    writeFileSync(broken, "version: 1\ngateway: x\ndevices: [{ id: d, adapter: nope }]\n");
    await expect(run(bin, ["validate", broken], { env })).rejects.toMatchObject({ code: 1 });
  });

  it("tagbridge demo serves /healthz and a simulator reading, and stops cleanly on SIGTERM", async () => {
    const demo: ChildProcess = spawn(bin, ["demo", "--port", "0", "--data-dir", join(work, "demo-data")], {
      cwd: work,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    demo.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    demo.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => demo.on("exit", (code) => resolve(code)));
    try {
      const base = await until(
        "the demo's banner",
        () => /latest readings\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1],
        90_000,
        () => out,
      );
      const health = await until("GET /healthz 200", async () => {
        const r = await fetch(`${base}/healthz`).catch(() => undefined);
        return r?.ok ? ((await r.json()) as Record<string, unknown>) : undefined;
      });
      expect(health).toBeTypeOf("object");
      const reading = await until("a reading from press-1", async () => {
        const r = await fetch(`${base}/api/v1/readings/latest?device=press-1`);
        const list = (await r.json()) as { device: string; quality: string }[];
        return list.find((x) => x.quality === "good");
      });
      expect(reading.device).toBe("press-1");
    } finally {
      demo.kill("SIGTERM");
    }
    expect(await exited, out).toBe(0);
  }, 120_000);
});

describe("npm install of the tarball into a project", () => {
  it("npx tagbridge runs the project's copy", async () => {
    if (satisfies(process.version, pkg.engines.node)) expect(projectInstall.output).not.toMatch(/EBADENGINE/);
    const { stdout } = await run("npx", ["--no", "--", "tagbridge", "--version"], { cwd: project, env });
    expect(stdout.trim()).toBe(pkg.version);
    expect(existsSync(join(project, "node_modules", "tagbridge", "dist", "src", "cli", "main.js"))).toBe(
      true,
    );
  });
});
