/**
 * Certificate rotation without storms (issue 17, item 3): a trusted server restarted with a new
 * certificate, many times in a row. The connection attempts are counted where the server sees them
 * (a TCP proxy in front of it): at most one per step of the device's reconnect backoff
 * (100–400 ms here); the state reason names BadCertificateUntrusted and the new thumbprint, the log
 * says so once per round, not once per attempt; trusting the certificate through the store brings
 * the device back within one backoff step; stop() ends at once mid-reconnect.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterAll, describe, expect, it } from "vitest";
import opcuaAdapter from "../../adapters/opcua/index.js";
import { type OpcuaPeer, startOpcuaPeer } from "../peers/opcua-server.js";
import { deviceOn, stopDevices, tempDir, waitFor } from "./helpers.js";
import { type CountingProxy, countingProxy } from "./proxy.js";

const external = !!process.env.OPCUA_URL;
/** Restarts with a new certificate; the Done-when asks for twenty. */
const ROUNDS = Number(process.env.OPCUA_ROTATIONS ?? 20);
const minMs = 100;
const maxMs = 400;
/**
 * From the start of an attempt to the server seeing its TCP connect: a new client and its PKI
 * loaded, plus an attempt still in flight when the trust came (70–900 ms on a shared, loaded 2-core
 * machine). "Within one step" is checked on the adapter's own attempt log.
 */
const SETUP_MS = 1000;
let peer: OpcuaPeer | undefined;
let proxy: CountingProxy | undefined;
afterAll(async () => {
  await stopDevices();
  await proxy?.close();
  await peer?.stop();
});

const untrusted = (reason: string | undefined) => /BadCertificateUntrusted/.test(reason ?? "");

describe.skipIf(external)("opcua: server certificate rotation", () => {
  it(`a server restarted with a new certificate ${ROUNDS} times: at most one connection attempt per backoff step, always recovers after trust`, async () => {
    peer = await startOpcuaPeer([{ name: "x", dataType: "Double", value: 7 }]);
    proxy = await countingProxy(Number(new URL(peer.endpointUrl.replace("opc.tcp", "http")).port));
    const shared = tempDir("opcua-rotation");
    const store = opcuaAdapter.certificates!(shared);
    const d = deviceOn(`opc.tcp://127.0.0.1:${proxy.port}`, "plc", {}, shared);
    await expect(d.adapter.start()).rejects.toThrow(/BadCertificateUntrusted/);
    await d.adapter.stop();
    await store.trust((await store.list()).rejected[0]!.thumbprint);
    await d.adapter.start();
    await expect(d.adapter.read(d.tc.ctx.points)).resolves.toMatchObject([{ value: 7, quality: "good" }]);

    const accepted = proxy.accepted;
    // How late this process's timers ran: a loaded machine delays the backoff's timer, not the adapter.
    const lateness = monitorEventLoopDelay({ resolution: 10 });
    lateness.enable();
    for (let round = 1; round <= ROUNDS; round++) {
      lateness.reset();
      const from = { sockets: accepted.length, states: d.tc.states.length, logs: d.logs.length };
      const known = new Set((await store.list()).trusted.map((c) => c.thumbprint));
      await peer.restart({ newCertificate: true });
      const refused = await waitFor(
        () => d.tc.states.slice(from.states).find((s) => untrusted(s.reason)),
        15_000,
        `round ${round}: the new certificate refused`,
      ).catch((e: Error) => {
        const reasons = [...new Set(d.tc.states.slice(from.states).map((s) => s.reason))];
        const n = accepted.length - from.sockets;
        throw new Error(
          `${e.message}; reasons ${JSON.stringify(reasons)}; ${n} connections since the restart`,
        );
      });
      const fresh = (await store.list()).rejected.filter((c) => !known.has(c.thumbprint));
      expect(fresh, `round ${round}: one new rejected certificate`).toHaveLength(1);
      const thumbprint = fresh[0]!.thumbprint;
      expect(refused.reason).toContain(thumbprint);
      // Let it be refused twice more, then look at every attempt since the restart.
      const refusedAt = accepted.length;
      // An attempt caught in the restart may hang until its connect timeout (10 s by default) first.
      await waitFor(() => accepted.length >= refusedAt + 2 || undefined, 15_000, `round ${round}: retries`);
      const times = accepted.slice(from.sockets);
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      expect(
        Math.min(...gaps),
        `round ${round}: attempts ${gaps.map(Math.round).join(",")} ms apart`,
      ).toBeGreaterThanOrEqual(minMs * 0.9);
      // Reported once: one state change and one log line name the certificate, however many attempts.
      const states = d.tc.states.slice(from.states);
      expect(states.filter((s) => untrusted(s.reason))).toHaveLength(1);
      expect(states.every((s) => s.state === "disconnected")).toBe(true);
      const lines = d.logs.slice(from.logs).filter((l) => l.level >= 40);
      expect(lines.filter((l) => untrusted(JSON.stringify(l)))).toHaveLength(1);
      expect(lines.length).toBeLessThanOrEqual(states.length);

      const trustedAt = performance.now();
      const trustedEpoch = Date.now();
      const sockets = accepted.length;
      await store.trust(thumbprint);
      await waitFor(
        () => d.tc.states.at(-1)?.state === "connected" || undefined,
        maxMs + 5_000,
        `round ${round}: connected after trust`,
      ).catch(async (e: Error) => {
        const states = JSON.stringify(d.tc.states.slice(from.states));
        const at = accepted.slice(from.sockets).map((t) => Math.round(t - trustedAt));
        const lists = JSON.stringify(await store.list());
        throw new Error(
          `${e.message}; states ${states}; attempts at ${at} ms from the trust; lists ${lists}`,
        );
      });
      // Either the attempt in flight at the trust read the new trust list and connected, or the
      // first attempt the adapter starts after the trust comes within one step, and connects.
      const started = d.logs.filter((l) => l.msg === "reconnecting" && l.time >= trustedEpoch);
      expect(started.length, `round ${round}: at most one attempt after the trust`).toBeLessThanOrEqual(1);
      if (started.length === 0) {
        const inFlight = d.logs.filter((l) => l.msg === "reconnecting").at(-1);
        expect(inFlight, `round ${round}: an attempt in flight at the trust`).toBeDefined();
        const failedAfter = d.logs.filter(
          (l) => l.msg === "reconnect attempt failed" && l.time >= inFlight!.time,
        );
        expect(failedAfter, `round ${round}: the attempt in flight connected`).toHaveLength(0);
      } else {
        // It began one step after the attempt before it ended (that one may have been in flight at the trust).
        const before = d.logs
          .filter((l) => l.msg === "reconnect attempt failed" && l.time <= started[0]!.time)
          .at(-1);
        expect(before, `round ${round}: a refused attempt before`).toBeDefined();
        const wait = before!.retryInMs;
        expect(wait, `round ${round}: the planned wait is one backoff step`).toBeLessThanOrEqual(maxMs);
        const lateMs = Math.ceil(lateness.max / 1e6);
        expect(
          started[0]!.time - before!.time,
          `round ${round}: within one step (${wait} ms planned, timers up to ${lateMs} ms late)`,
        ).toBeLessThanOrEqual(wait! + 20 + lateMs);
        const next = accepted.slice(sockets).find((t) => t >= trustedAt);
        expect(next, `round ${round}: its connection, seen by the server`).toBeDefined();
        expect(next! - trustedAt).toBeLessThanOrEqual(maxMs + SETUP_MS);
      }
      // The one successful attempt: discovery (GetEndpoints) and the session's channel.
      expect(accepted.length - sockets).toBeLessThanOrEqual(2);
      await expect(d.adapter.read(d.tc.ctx.points)).resolves.toMatchObject([{ value: 7, quality: "good" }]);
    }

    lateness.disable();

    // Mid-reconnect (refused, waiting for the next step), stop() ends at once.
    const from = d.tc.states.length;
    await peer.restart({ newCertificate: true });
    await waitFor(
      () => d.tc.states.slice(from).find((s) => untrusted(s.reason)),
      15_000,
      "refused before stop",
    );
    const stopping = performance.now();
    await d.adapter.stop();
    expect(performance.now() - stopping).toBeLessThan(1000);
  }, 300_000);
});
