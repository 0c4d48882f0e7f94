/**
 * The http-webhook sink against a webhook that dies, comes back, and answers garbage: HTTP 500, a
 * connection cut in the middle of a 200, a slow answer, a refusal, an untrusted certificate. Each
 * is checked for what the core relies on: no such answer ever acknowledges a publish, the state
 * says whether publishing can succeed, and probes are paced by the backoff and bounded by maxMs.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Reading } from "tagbridge/sdk";
import { createSinkTestContext } from "tagbridge/sdk/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import httpWebhookSink from "../src/index.js";
import { startWebhookPeer, type WebhookPeer } from "./webhook-peer.js";

let peer: WebhookPeer;
beforeAll(async () => {
  peer = await startWebhookPeer();
});
afterAll(() => peer.stop());
afterEach(async () => {
  peer.mode = { kind: "ok" };
  await peer.start(); // a failed test may have left it stopped
});

/**
 * Node's timers count from the event loop's cached time, which a busy loop iteration leaves behind
 * the clock: a timer may fire a few ms before its delay by Date.now(). Pacing is checked with this
 * slack, still far from what an unpaced loop (every minMs, or at once) would show.
 */
const early = (ms: number) => ms * 0.75;

let nextSeq = 1;
const readings = (n: number): Reading[] =>
  Array.from({ length: n }, () => {
    const seq = nextSeq++;
    return {
      gateway: "gw",
      device: "press-1",
      point: "force",
      value: seq,
      type: "float64",
      quality: "good",
      ts: "2025-01-01T00:00:00.000Z",
      receivedAt: "2025-01-01T00:00:00.000Z",
      protocol: "simulator",
      seq,
    } satisfies Reading;
  });
const arrived = (sent: readonly Reading[]) => {
  const seqs = new Set(peer.received.map((r) => r.reading.seq));
  return sent.filter((r) => seqs.has(r.seq)).length;
};

/** Starts a sink on the peer with `extra` settings, runs `fn`, stops it. */
async function withSink(
  extra: object,
  fn: (s: ReturnType<typeof httpWebhookSink.create>, tc: ReturnType<typeof context>) => Promise<void>,
) {
  const tc = context(extra);
  const sink = httpWebhookSink.create(tc.ctx);
  await sink.start();
  try {
    await tc.waitForState("connected", 3_000);
    await fn(sink, tc);
  } finally {
    await sink.stop();
  }
}
const context = (extra: object) =>
  createSinkTestContext(httpWebhookSink, {
    url: `${peer.url}/hook`,
    requestTimeoutMs: 1_000,
    probe: { minMs: 20, maxMs: 160 },
    ...extra,
  });

describe("http-webhook: the webhook dies and comes back", () => {
  it("six times in a row: publishes fail while it is gone, and it is connected again within maxMs", async () => {
    await withSink({}, async (sink, tc) => {
      for (let round = 0; round < 6; round++) {
        await peer.stop();
        const lost = readings(3);
        await expect(sink.publish(lost, { historical: false })).rejects.toThrow(/POST .*\/hook: /);
        expect(tc.current).toBe("disconnected");
        const failedAt = Date.now();
        const before = tc.metrics.counters.get("requests")!;
        const probes = () => tc.metrics.counters.get("requests")! - before;
        await until(() => probes() >= 3, 2_000);
        // Paced: the probes go 20, 40 and 80 ms apart, so the third cannot come before 140 ms.
        expect(Date.now() - failedAt).toBeGreaterThanOrEqual(early(140));
        await peer.start();
        const back = Date.now();
        await tc.waitForState("connected", 2_000);
        expect(Date.now() - back).toBeLessThan(160 + 1_000); // one maxMs step, plus slack for a busy machine
        const sent = readings(5);
        await sink.publish(sent, { historical: true });
        expect(arrived(sent)).toBe(5);
        expect(arrived(lost)).toBe(0);
      }
      // A new reason may be reported while disconnected; the transitions are what count.
      const changes = tc.states.map((s) => s.state).filter((s, i, all) => s !== all[i - 1]);
      expect(changes).toEqual(["connected", ...Array(6).fill(["disconnected", "connected"]).flat()]);
    });
  });

  it("probes with a doubling delay up to maxMs, honouring Retry-After within maxMs", async () => {
    await withSink({ probe: { minMs: 25, maxMs: 200 } }, async (sink, tc) => {
      peer.mode = { kind: "status", status: 503 };
      const from = peer.requests.length;
      await expect(sink.publish(readings(1), { historical: false })).rejects.toThrow(/HTTP 503/);
      const failedAt = Date.now();
      const probes = () => peer.requests.slice(from + 1).filter((r) => r.method === "HEAD");
      await until(() => probes().length >= 5, 3_000);
      const at = [failedAt, ...probes().map((r) => r.at)];
      const gaps = at.slice(1, 6).map((t, i) => t - at[i]!);
      for (const [i, step] of [25, 50, 100, 200, 200].entries())
        expect(gaps[i]).toBeGreaterThanOrEqual(early(step));
      expect(tc.current).toBe("disconnected");

      peer.mode = { kind: "status", status: 503, retryAfter: 5 }; // 5 s asked, maxMs is 200
      const n = probes().length;
      await until(() => probes().length >= n + 2, 3_000);
      const [a, b] = probes().slice(n, n + 2);
      expect(b!.at - a!.at).toBeGreaterThanOrEqual(early(200));
      expect(b!.at - a!.at).toBeLessThan(1_000);

      peer.mode = { kind: "ok" };
      await tc.waitForState("connected", 2_000);
    });
  });
});

describe("http-webhook: garbage answers never acknowledge", () => {
  for (const [what, mode, message] of [
    ["HTTP 500", { kind: "status", status: 500, body: "boom" }, /HTTP 500: boom/],
    [
      "a connection cut in the middle of a 200",
      { kind: "cut" },
      /closed in the middle|aborted|socket hang up/,
    ],
    ["a slow answer", { kind: "slow", ms: 1_500 }, /no complete answer within 300 ms/],
  ] as const) {
    it(`${what}: the publish rejects, the sink reports disconnected, then recovers`, async () => {
      await withSink({ requestTimeoutMs: 300 }, async (sink, tc) => {
        peer.mode = mode;
        const sent = readings(4);
        await expect(sink.publish(sent, { historical: false })).rejects.toThrow(message);
        expect(tc.current).toBe("disconnected");
        expect(sink.batching!.released!()).toBe(true);
        peer.mode = { kind: "ok" };
        await tc.waitForState("connected", 2_000);
        await sink.publish(sent, { historical: true });
        expect(peer.received.filter((r) => sent.some((s) => s.seq === r.reading.seq))).toHaveLength(4);
      });
    });
  }

  it("a 4xx refusal rejects the publish but leaves the sink connected", async () => {
    await withSink({}, async (sink, tc) => {
      peer.mode = { kind: "status", status: 400, body: "bad batch" };
      await expect(sink.publish(readings(2), { historical: false })).rejects.toThrow(/HTTP 400: bad batch/);
      expect(tc.states.map((s) => s.state)).toEqual(["connected"]);
    });
  });

  it("stop() during an answer that never comes resolves within its bound and cuts the request", async () => {
    const tc = context({ requestTimeoutMs: 60_000 });
    const sink = httpWebhookSink.create(tc.ctx);
    await sink.start();
    await tc.waitForState("connected", 3_000);
    peer.mode = { kind: "slow", ms: 30_000 };
    const pending = sink.publish(readings(2), { historical: false }).catch((e: Error) => e);
    await until(() => peer.requests.at(-1)?.method === "POST", 2_000);
    const t0 = Date.now();
    await sink.stop();
    expect(Date.now() - t0).toBeLessThan(2_500); // stop waits at most 2 s for answers in flight
    expect(String(await pending)).toMatch(/stopped/);
    await expect(sink.publish(readings(1), { historical: false })).rejects.toThrow(/stopped/);
  });
});

const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasOpenssl)("http-webhook: TLS", () => {
  let tlsPeer: WebhookPeer;
  const dir = mkdtempSync(join(tmpdir(), "webhook-tls-"));
  const certFile = join(dir, "cert.pem");
  beforeAll(async () => {
    const key = join(dir, "key.pem");
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"].concat([
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        key,
        "-out",
        certFile,
      ]),
      { stdio: "ignore" },
    );
    tlsPeer = await startWebhookPeer({
      key: readFileSync(key, "utf8"),
      cert: readFileSync(certFile, "utf8"),
    });
  });
  afterAll(() => tlsPeer.stop());

  const tlsContext = (tls?: object) =>
    createSinkTestContext(httpWebhookSink, {
      url: `${tlsPeer.url}/hook`,
      probe: { minMs: 20, maxMs: 100 },
      ...(tls ? { tls } : {}),
    });

  it("verifies the certificate: an untrusted one is disconnected with the reason", async () => {
    for (const [tls, reason] of [
      [undefined, /self-signed certificate/],
      [{ caFile: join(dir, "missing.pem") }, /cannot read tls\.caFile .*missing\.pem/],
    ] as const) {
      const tc = tlsContext(tls);
      const sink = httpWebhookSink.create(tc.ctx);
      await sink.start();
      await tc.waitForState("disconnected", 3_000);
      expect(tc.states[0]!.reason).toMatch(reason);
      await sink.stop();
    }
    expect(tlsPeer.received).toHaveLength(0);
  });

  it("delivers to an endpoint whose certificate tls.caFile trusts", async () => {
    const tc = tlsContext({ caFile: certFile });
    const sink = httpWebhookSink.create(tc.ctx);
    await sink.start();
    try {
      await tc.waitForState("connected", 3_000);
      const sent = readings(3);
      await sink.publish(sent, { historical: false });
      expect(tlsPeer.received.map((r) => r.reading.seq)).toEqual(sent.map((r) => r.seq));
    } finally {
      await sink.stop();
    }
  });
});

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
