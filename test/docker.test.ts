/**
 * No container engine runs on the build machines, so this checks what can be checked without one:
 * every file the Dockerfile copies and every config, command, script and path that the Dockerfile
 * and the compose file name exists in the repository and fits together.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { AdapterRegistry } from "../src/core/registry.js";
import { ROOT } from "./helpers/cli.js";
import { apiFixture } from "./helpers/service.js";

const DOCKER = join(ROOT, "docker");
const dockerfile = readFileSync(join(DOCKER, "Dockerfile"), "utf8");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
  bin: Record<string, string>;
};

/** Dockerfile instructions, continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));
const stages = instructions
  .join("\n")
  .split(/^FROM /m)
  .slice(1);
const runtime = stages.at(-1)!;

interface ComposeService {
  build?: { context: string; dockerfile: string };
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  network_mode?: string;
}
const compose = parse(readFileSync(join(DOCKER, "compose.yaml"), "utf8")) as {
  services: Record<string, ComposeService>;
};

/** The repository file an absolute path in the runtime image comes from (WORKDIR /app, COPY config ./config). */
function sourceOf(imagePath: string): string {
  const copies = [...runtime.matchAll(/^COPY (?!--from)(\S+) (\S+)$/gm)].map((m) => ({
    from: m[1]!,
    to: posix.join("/app", m[2]!),
  }));
  const copy = copies.find((c) => imagePath === c.to || imagePath.startsWith(`${c.to}/`));
  expect(copy, `${imagePath} is not copied into the runtime image`).toBeDefined();
  return join(ROOT, copy!.from, imagePath.slice(copy!.to.length));
}

/** The config file a `run -c <file>` command names, as a repository path. */
function configOf(command: string[]): string | undefined {
  const i = command.indexOf("-c");
  return i < 0 ? undefined : sourceOf(command[i + 1]!);
}

describe("docker/Dockerfile", () => {
  it("builds in one stage and runs in another, as a non-root user, with a data volume and a health check", async () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(runtime).toMatch(/^USER (?!root)\S+/m);
    expect(runtime).toMatch(/^VOLUME \["\/data"\]/m);
    expect(runtime).toMatch(/TAGBRIDGE_DATA_DIR=\/data/);
    // The check calls /healthz, which must be a public route (no token inside the container).
    expect(runtime).toMatch(/^HEALTHCHECK .*\/healthz/m);
    const f = await apiFixture();
    try {
      expect(f.app.routeTable.find((r) => r.method === "GET" && r.url === "/healthz")?.role).toBe("public");
    } finally {
      await f.close();
    }
  });

  it("copies only files and folders that exist", () => {
    const sources = [...instructions.join("\n").matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) =>
      m[1]!.split(/\s+/).slice(0, -1),
    );
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) expect(existsSync(join(ROOT, source)), source).toBe(true);
  });

  it("runs npm scripts that exist, and the build makes the files the runtime stage runs", () => {
    const scripts = [...dockerfile.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!);
    for (const s of scripts) expect(pkg.scripts[s], `npm run ${s}`).toBeDefined();
    // `npm ci` runs prepare, which builds: the server (tsc) and the web console (vite).
    expect(dockerfile).toMatch(/npm ci/);
    expect(pkg.scripts.prepare).toBe("npm run build");
    expect(pkg.scripts.build).toMatch(/tsc -p tsconfig\.build\.json/);
    expect(pkg.scripts.build).toMatch(/vite build --config src\/console\/vite\.config\.ts/);
    for (const file of ["tsconfig.build.json", "src/console/vite.config.ts", "src/console/index.html"])
      expect(existsSync(join(ROOT, file)), file).toBe(true);
  });

  it("starts the CLI the package names as its bin, with a config that is in the image", () => {
    const entry = /^ENTRYPOINT \["node", "([^"]+)"\]/m.exec(runtime)?.[1];
    expect(entry).toBe(pkg.bin.tagbridge);
    expect(existsSync(join(ROOT, entry!.replace(/^dist\//, "").replace(/\.js$/, ".ts"))), entry).toBe(true);
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(runtime)![1]!) as string[];
    expect(existsSync(configOf(cmd)!), cmd.join(" ")).toBe(true);
  });

  it("has an ignore file that keeps the build context small but not what the build copies", () => {
    const ignored = readFileSync(join(DOCKER, "Dockerfile.dockerignore"), "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith("#"));
    for (const heavy of ["node_modules", "dist", ".git"]) expect(ignored).toContain(heavy);
    for (const needed of ["src", "adapters", "protocols", "config", "package.json"])
      expect(ignored, needed).not.toContain(needed);
  });
});

describe("docker/compose.yaml", () => {
  const services = compose.services;
  const gateway = services.tagbridge!;
  const built = gateway.image;

  it("builds the gateway from the Dockerfile, and runs Mosquitto and a simulator per protocol", () => {
    expect(statSync(join(DOCKER, gateway.build!.context)).isDirectory()).toBe(true);
    expect(existsSync(join(DOCKER, gateway.build!.context, gateway.build!.dockerfile))).toBe(true);
    expect(services.mosquitto?.image).toMatch(/^eclipse-mosquitto:/);
    const simulated = Object.values(services)
      .filter((s) => s.command?.[0] === "simulate")
      .map((s) => s.command![1]);
    expect(simulated.sort()).toEqual(["modbus", "mqtt", "opcua"]);
  });

  it("runs simulators the CLI has, from the gateway's image, on the gateway's network", () => {
    const registry = new AdapterRegistry();
    for (const [name, s] of Object.entries(services)) {
      if (s.command?.[0] !== "simulate") continue;
      expect(s.image, name).toBe(built);
      expect(s.network_mode, name).toBe("service:tagbridge");
      expect(
        registry.get(s.command[1]!)?.simulate,
        `${name}: no simulator for ${s.command[1]}`,
      ).toBeDefined();
    }
  });

  it("gives the gateway a config that exists, is the one the docs use, and reads the variables compose sets", () => {
    const file = configOf(gateway.command!)!;
    expect(existsSync(file)).toBe(true);
    const config = readFileSync(file, "utf8");
    const relative = file.slice(ROOT.length + 1);
    expect(readFileSync(join(ROOT, "docs/getting-started.md"), "utf8")).toContain(relative);
    for (const name of Object.keys(gateway.environment ?? {}))
      expect(config, `${relative} does not use ${name}`).toContain(`\${env:${name}`);
    // The simulators' ports as the config names them: OPC UA 4840, Modbus 5020, MQTT 1884.
    for (const address of ["opc.tcp://127.0.0.1:4840", "port: 5020", "mqtt://127.0.0.1:1884"])
      expect(config).toContain(address);
  });

  it("mounts host files that exist", () => {
    for (const s of Object.values(services))
      for (const volume of s.volumes ?? []) {
        const [source] = volume.split(":");
        if (source!.startsWith(".") || source!.startsWith("/"))
          expect(existsSync(join(DOCKER, source!)), volume).toBe(true);
      }
  });
});
