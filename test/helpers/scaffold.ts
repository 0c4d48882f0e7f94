/** Shared steps of the scaffold tests (`tagbridge adapter new`, `tagbridge sink new`). */
import { execFile } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { Command } from "commander";
import { vi } from "vitest";
import { packageRoot } from "../../src/paths.js";

const ROOT = packageRoot();

/** Runs `tagbridge <kind> new ...args` through commander with `register`, output captured. */
export async function runNewCommand(
  register: (program: Command) => void,
  kind: "adapter" | "sink",
  ...args: string[]
): Promise<{ out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, "log").mockImplementation((s: string) => void out.push(s));
  vi.spyOn(console, "error").mockImplementation((s: string) => void err.push(s));
  const program = new Command("tagbridge").exitOverride();
  register(program);
  await program.parseAsync([kind, "new", ...args], { from: "user" });
  return { out: out.join("\n"), err: err.join("\n") };
}

/**
 * Gives a generated package in `dir` what `npm install` would (tagbridge as a symlink, as for
 * `file:`, and the dev tools) and returns a runner of those tools' scripts in it.
 */
export function installLike(dir: string): (file: string, ...args: string[]) => Promise<{ stdout: string }> {
  mkdirSync(join(dir, "node_modules", "@types"), { recursive: true });
  symlinkSync(ROOT, join(dir, "node_modules", "tagbridge"), "dir");
  for (const name of ["typebox", "vitest", "@types/node"])
    symlinkSync(join(ROOT, "node_modules", name), join(dir, "node_modules", name), "dir");
  return (file, ...args) =>
    promisify(execFile)(process.execPath, [join(ROOT, "node_modules", file), ...args], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    }).catch((e: { stdout: string; stderr: string }) => {
      throw new Error(`${file} ${args.join(" ")} failed:\n${e.stdout}${e.stderr}`);
    });
}
