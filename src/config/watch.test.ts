import { mkdtemp, rename, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type ConfigWatcher, watchConfig } from "./watch.js";

let dir: string;
let file: string;
let watcher: ConfigWatcher | undefined;
const DEBOUNCE = 100;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tagbridge-watch-"));
  file = join(dir, "gateway.yaml");
  await writeFile(file, "version: 1\n");
});
afterEach(async () => {
  watcher?.close();
  watcher = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** Starts watching and lets the watch settle, so the setup write is not seen. */
async function start(onChange: () => void | Promise<void>, onError?: (err: Error) => void) {
  watcher = watchConfig(file, onChange, { debounceMs: DEBOUNCE, ...(onError ? { onError } : {}) });
  await sleep(50);
}

describe("watchConfig", () => {
  it("calls once for a burst of writes, after the quiet time", async () => {
    const onChange = vi.fn();
    await start(onChange);
    for (let i = 0; i < 5; i++) {
      await writeFile(file, `version: 1\n# edit ${i}\n`);
      await sleep(10);
    }
    await vi.waitFor(() => expect(onChange).toHaveBeenCalledTimes(1), { timeout: 2000 });
    await sleep(DEBOUNCE * 3);
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it("follows an editor's save by rename, again and again", async () => {
    const onChange = vi.fn();
    await start(onChange);
    for (let i = 1; i <= 2; i++) {
      const tmp = join(dir, `.gateway.yaml.${i}.swp`);
      await writeFile(tmp, `version: 1\n# save ${i}\n`);
      await rename(tmp, file);
      await vi.waitFor(() => expect(onChange).toHaveBeenCalledTimes(i), { timeout: 2000 });
    }
  });

  it("stays quiet while the file is missing and calls when it is back", async () => {
    const onChange = vi.fn();
    await start(onChange);
    await unlink(file);
    await sleep(DEBOUNCE * 4);
    expect(onChange).not.toHaveBeenCalled();
    await writeFile(file, "version: 1\n");
    await vi.waitFor(() => expect(onChange).toHaveBeenCalledTimes(1), { timeout: 2000 });
  });

  it("ignores other files in the directory", async () => {
    const onChange = vi.fn();
    await start(onChange);
    await writeFile(join(dir, "other.yaml"), "x: 1\n");
    await sleep(DEBOUNCE * 4);
    expect(onChange).not.toHaveBeenCalled();
    await writeFile(file, "version: 1\n# mine\n");
    await vi.waitFor(() => expect(onChange).toHaveBeenCalledTimes(1), { timeout: 2000 });
  });

  it("calls nothing after close, even for a change already pending", async () => {
    const onChange = vi.fn();
    await start(onChange);
    await writeFile(file, "version: 1\n# pending\n");
    await sleep(10);
    watcher?.close();
    watcher?.close();
    await writeFile(file, "version: 1\n# after\n");
    await sleep(DEBOUNCE * 4);
    expect(onChange).not.toHaveBeenCalled();
  });

  it("reports a throwing or rejecting onChange to onError", async () => {
    const errors: Error[] = [];
    let calls = 0;
    await start(
      () => {
        calls++;
        if (calls === 1) throw new Error("sync boom");
        return Promise.reject(new Error("async boom"));
      },
      (err) => errors.push(err),
    );
    await writeFile(file, "version: 1\n# 1\n");
    await vi.waitFor(() => expect(errors.map((e) => e.message)).toEqual(["sync boom"]), { timeout: 2000 });
    await writeFile(file, "version: 1\n# 2\n");
    await vi.waitFor(() => expect(errors.map((e) => e.message)).toEqual(["sync boom", "async boom"]), {
      timeout: 2000,
    });
  });
});
