/**
 * docker/Dockerfile built and run for real with podman (issue 20, item 3). No image registry can be
 * reached here, so the base is made by scripts/container-base.sh (Debian bookworm from Debian's
 * packages, Node 24 from the npm registry) and passed as NODE_IMAGE. The image runs `tagbridge demo`
 * (the gateway with its simulators in one container): /healthz answers, the image's HEALTHCHECK
 * passes, a simulator reading is served, the process is not root, and `podman stop` ends it with
 * exit code 0. The image size is printed.
 *
 * Where podman is not installed or cannot run a container here, every case is skipped and the
 * reason is printed: nothing is pretended.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers/cli.js";
import { until } from "./helpers/until.js";

const run = promisify(execFile);
const IMAGE = "localhost/tagbridge:test";
const CA_BUNDLE = process.env.SSL_CERT_FILE ?? "/etc/ssl/certs/ca-certificates.crt";

/** Why containers cannot be run here, or undefined when podman can run one. */
function unavailable(): string | undefined {
  try {
    execFileSync("podman", ["--version"], { stdio: "pipe" });
  } catch {
    return "podman is not installed (apt-get install podman crun debootstrap)";
  }
  for (const tool of ["debootstrap", "chroot"])
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "pipe" });
    } catch {
      return `${tool} is not installed, so no base image can be made without a registry`;
    }
  if (process.getuid?.() !== 0) return "not root: scripts/container-base.sh needs root for debootstrap";
  return undefined;
}

const reason = unavailable();
if (reason) process.stderr.write(`test/docker-build.test.ts skipped: ${reason}\n`);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as { port: number };
  await new Promise((resolve) => s.close(resolve));
  return port;
}

const podman = async (...args: string[]) =>
  (await run("podman", args, { cwd: ROOT, maxBuffer: 256 << 20 })).stdout.trim();

/**
 * podman's own defaults first; then what this sandbox needs (as found here): runc, since crun
 * refuses hybrid cgroups v1/v2, and rlimits no higher than the sandbox's own (podman raises
 * RLIMIT_NOFILE and RLIMIT_NPROC by default, and raising them needs CAP_SYS_RESOURCE).
 */
function runtimeFlagSets(): string[][] {
  const hardNofile = execFileSync("sh", ["-c", "ulimit -Hn"]).toString().trim();
  const limits = ["--ulimit", `nofile=${hardNofile}:${hardNofile}`, "--ulimit", "nproc=4096:4096"];
  return [[], limits, ["--runtime", "runc", ...limits]];
}

/** The first flag set with which a container of `image` runs, or why none does. */
async function workingFlags(image: string): Promise<string[] | string> {
  const errors: string[] = [];
  for (const flags of runtimeFlagSets())
    try {
      await podman("run", "--rm", ...flags, image, "node", "--version");
      return flags;
    } catch (error) {
      errors.push(`[${flags.join(" ")}]: ${(error as { stderr?: string }).stderr?.trim() ?? String(error)}`);
    }
  return errors.join("\n");
}

describe.skipIf(reason !== undefined)("docker/Dockerfile built with podman", () => {
  let container = "";
  let base = "";
  let port = 0;
  /** Set when podman can build but this sandbox cannot run its containers. */
  let cannotRun: string | undefined;

  beforeAll(async () => {
    const started = Date.now();
    const made = await run("bash", [join(ROOT, "scripts/container-base.sh")], {
      cwd: ROOT,
      maxBuffer: 64 << 20,
    });
    const baseImage = made.stdout.trim().split("\n").at(-1)!;
    const flags = await workingFlags(baseImage);
    if (typeof flags === "string") {
      cannotRun = `podman cannot run a container here:\n${flags}`;
      process.stderr.write(`test/docker-build.test.ts: ${cannotRun}\n`);
      return;
    }
    const built = Date.now();
    await run(
      "podman",
      [
        "build",
        // The Docker image format: OCI images have no HEALTHCHECK, and podman drops it from them.
        "--format",
        "docker",
        ...flags,
        // This machine's CA bundle (its egress proxy re-signs TLS), for npm ci in the build only.
        ...(existsSync(CA_BUNDLE) ? ["--secret", `id=ca,src=${CA_BUNDLE}`] : []),
        "--network=host",
        "--build-arg",
        `NODE_IMAGE=${baseImage}`,
        "--ignorefile",
        "docker/Dockerfile.dockerignore",
        "-f",
        "docker/Dockerfile",
        "-t",
        IMAGE,
        ".",
      ],
      { cwd: ROOT, maxBuffer: 256 << 20 },
    );
    const size = Number(await podman("image", "inspect", "--format", "{{.Size}}", IMAGE));
    process.stderr.write(
      `container: base ${baseImage} in ${Math.round((built - started) / 1000)} s, image built in ${Math.round((Date.now() - built) / 1000)} s, ${(size / 1e6).toFixed(0)} MB\n`,
    );
    port = await freePort();
    container = await podman(
      "run",
      "-d",
      ...flags,
      "--network=host",
      "-e",
      "TAGBRIDGE_HOST=127.0.0.1",
      "-e",
      `TAGBRIDGE_PORT=${port}`,
      "-e",
      "TAGBRIDGE_LOG_LEVEL=warn",
      IMAGE,
      "demo",
    );
    base = `http://127.0.0.1:${port}`;
  }, 1_500_000);

  afterAll(async () => {
    if (container) await podman("rm", "-f", container).catch(() => undefined);
  });

  it("serves /healthz, passes its own HEALTHCHECK and runs as a user other than root", async (ctx) => {
    if (cannotRun) return ctx.skip(cannotRun);
    await until(
      "GET /healthz 200 from the container",
      async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok,
      90_000,
      async () => podman("logs", container).catch(String),
    );
    await expect(podman("healthcheck", "run", container)).resolves.toBeDefined();
    expect(await podman("exec", container, "id", "-u")).not.toBe("0");
    expect(await podman("exec", container, "node", "--version")).toMatch(/^v24\./);
  }, 120_000);

  it("serves a reading from a simulator", async (ctx) => {
    if (cannotRun) return ctx.skip(cannotRun);
    const reading = await until(
      "a good reading from press-1",
      async () => {
        const r = await fetch(`${base}/api/v1/readings/latest?device=press-1`).catch(() => undefined);
        const list = r?.ok ? ((await r.json()) as { device: string; quality: string }[]) : [];
        return list.find((x) => x.quality === "good");
      },
      30_000,
    );
    expect(reading.device).toBe("press-1");
  }, 60_000);

  it("stops cleanly: podman stop ends the gateway with exit code 0", async (ctx) => {
    if (cannotRun) return ctx.skip(cannotRun);
    await podman("stop", "-t", "30", container);
    expect(await podman("inspect", "--format", "{{.State.ExitCode}}", container)).toBe("0");
  }, 60_000);
});
