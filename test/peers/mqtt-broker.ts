/**
 * An MQTT broker for tests, found or started in this order: `MQTT_URL` from the environment; the
 * Mosquitto binary on free loopback ports (a temp config, optionally a TLS listener with an
 * openssl-made CA, a WebSocket listener (ws, and wss with `tls`), a TLS listener that requires a
 * client certificate, and a password file); aedes in process (ws only). No testcontainers branch: this machine
 * has no container engine, and Mosquitto or aedes always cover it. `restart(downMs)` is an outage
 * in one call; `stopBroker()` and `startBroker()` are the same in two steps, for a test that acts
 * while the broker is down. `stop()` ends what was started.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, stopChild, waitForPort } from "./process.js";

/** Where mosquitto is installed on Debian. */
export const MOSQUITTO = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].find((p) => existsSync(p));

/** What a test asks of the broker. */
export interface BrokerOptions {
  /** Also listen with TLS (Mosquitto only), with a CA made for the run. */
  tls?: boolean;
  /** Require this user name and password (Mosquitto only); anonymous clients are refused. */
  auth?: { username: string; password: string };
  /** Keep sessions and queued QoS 1 messages across `restart()` and `stopBroker()` (Mosquitto only). */
  persistence?: boolean;
  /** Force the in-process aedes broker (no MQTT 5). */
  aedes?: boolean;
  /** Also listen for MQTT over WebSocket (`wsUrl`); with `tls` and Mosquitto, over TLS too (`wssUrl`). */
  websockets?: boolean;
  /**
   * Also a TLS listener that requires a client certificate signed by the run's CA (`mtlsUrl`), with a
   * client certificate signed by that CA and one signed by another CA (Mosquitto only).
   */
  clientCertificates?: boolean;
}

/** A running broker. */
export interface Broker {
  kind: "env" | "mosquitto" | "aedes";
  /** mqtt://127.0.0.1:PORT */
  url: string;
  port: number;
  /** mqtts://localhost:PORT when `tls` was asked for and Mosquitto runs. */
  tlsUrl?: string;
  /** PEM of the CA that signed the broker's certificate. */
  caFile?: string;
  /** PEM of a CA that did not sign it, for wrong-CA tests. */
  otherCaFile?: string;
  /** ws://127.0.0.1:PORT when `websockets` was asked for. */
  wsUrl?: string;
  /** wss://localhost:PORT when `websockets` and `tls` were asked for and Mosquitto runs. */
  wssUrl?: string;
  /** mqtts://localhost:PORT of the listener that requires a client certificate (`clientCertificates`). */
  mtlsUrl?: string;
  /** A client certificate and key signed by the CA of `caFile` (`clientCertificates`). */
  clientCertFile?: string;
  clientKeyFile?: string;
  /** A client certificate and key signed by the CA of `otherCaFile`, which the broker refuses. */
  otherClientCertFile?: string;
  otherClientKeyFile?: string;
  /** Whether the broker speaks MQTT 5 (aedes does not). */
  mqtt5: boolean;
  /** Stops and starts the broker again on the same ports (a broker outage). */
  restart(downMs?: number): Promise<void>;
  /**
   * Stops the broker, keeping its ports and config (and, with `persistence`, its sessions and queued
   * messages) for `startBroker()`: every connection drops and nothing listens. Idempotent.
   */
  stopBroker(): Promise<void>;
  /** Starts the broker again after `stopBroker()` on the same ports; resolves once it listens. Idempotent. */
  startBroker(): Promise<void>;
  /**
   * Mosquitto only: freezes the broker (SIGSTOP) and returns a function that thaws it (SIGCONT), a
   * stalled broker whose connections stay open while it reads nothing.
   */
  freeze?(): () => void;
  /** Stops what was started; idempotent. */
  stop(): Promise<void>;
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
}

/** Makes `<name>.pem`/`<name>.key`, a self-signed CA certificate, in `dir`. */
function makeCa(dir: string, name: string, cn: string): void {
  openssl(
    dir,
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"].concat([
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.pem`,
      "-subj",
      `/CN=${cn}`,
    ]),
  );
}

/** Makes `<name>.pem`/`<name>.key`, a certificate signed by the CA `<ca>.pem`/`<ca>.key` in `dir`. */
function makeSigned(dir: string, name: string, ca: string, cn: string, extfile?: string): void {
  openssl(dir, [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${cn}`,
  ]);
  openssl(
    dir,
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${ca}.pem`,
      "-CAkey",
      `${ca}.key`,
      "-CAcreateserial",
    ].concat(["-days", "2", "-out", `${name}.pem`], extfile ? ["-extfile", extfile] : []),
  );
}

/** Makes `<name>.pem`/`<name>.key`, a client certificate signed by the CA `<ca>.pem`/`<ca>.key` in `dir`. */
function makeClientCert(dir: string, name: string, ca: string): void {
  makeSigned(dir, name, ca, name);
}

/** Makes a CA, a server certificate for localhost/127.0.0.1 signed by it, and an unrelated CA. */
function makeCerts(dir: string): { ca: string; cert: string; key: string; other: string } {
  makeCa(dir, "ca", "tagbridge test CA");
  makeCa(dir, "other", "other CA");
  writeFileSync(join(dir, "san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  makeSigned(dir, "server", "ca", "localhost", "san.ext");
  return {
    ca: join(dir, "ca.pem"),
    cert: join(dir, "server.pem"),
    key: join(dir, "server.key"),
    other: join(dir, "other.pem"),
  };
}

async function startMosquitto(options: BrokerOptions): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), "tb-mosq-"));
  const port = await freePort();
  // Run as ourselves: as root, mosquitto would drop to user "mosquitto", who cannot read the temp dir.
  const lines = ["per_listener_settings false", `user ${userInfo().username}`, `listener ${port} 127.0.0.1`];
  let tlsPort: number | undefined;
  let certs: ReturnType<typeof makeCerts> | undefined;
  if (options.tls) {
    certs = makeCerts(dir);
    tlsPort = await freePort();
    lines.push(
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${certs.ca}`,
      `certfile ${certs.cert}`,
      `keyfile ${certs.key}`,
    );
  }
  let wsPort: number | undefined;
  let wssPort: number | undefined;
  if (options.websockets) {
    // Mosquitto 2.0.11 refuses to start with websockets listeners only; the plain listener above avoids that.
    wsPort = await freePort();
    lines.push(`listener ${wsPort} 127.0.0.1`, "protocol websockets");
    if (certs) {
      wssPort = await freePort();
      lines.push(
        `listener ${wssPort} 127.0.0.1`,
        "protocol websockets",
        `cafile ${certs.ca}`,
        `certfile ${certs.cert}`,
        `keyfile ${certs.key}`,
      );
    }
  }
  let mtlsPort: number | undefined;
  if (options.clientCertificates) {
    certs ??= makeCerts(dir);
    makeClientCert(dir, "client", "ca");
    makeClientCert(dir, "stranger", "other");
    mtlsPort = await freePort();
    lines.push(
      `listener ${mtlsPort} 127.0.0.1`,
      `cafile ${certs.ca}`,
      `certfile ${certs.cert}`,
      `keyfile ${certs.key}`,
      "require_certificate true",
    );
  }
  if (options.auth) {
    const file = join(dir, "passwd");
    execFileSync("mosquitto_passwd", ["-c", "-b", file, options.auth.username, options.auth.password], {
      stdio: "ignore",
    });
    lines.push("allow_anonymous false", `password_file ${file}`);
  } else lines.push("allow_anonymous true");
  if (options.persistence)
    lines.push("persistence true", `persistence_location ${dir}/`, "max_queued_messages 0");
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(conf, `${lines.join("\n")}\n`);

  let child: ChildProcess | undefined;
  const launch = async () => {
    if (child) return;
    const c = spawn(MOSQUITTO!, ["-c", conf], { stdio: "ignore" });
    child = c;
    for (const p of [port, tlsPort, wsPort, wssPort, mtlsPort]) if (p) await waitForPort(p, "broker", 5_000);
  };
  const kill = async () => {
    const c = child;
    child = undefined;
    await stopChild(c, 3_000);
  };
  try {
    await launch();
  } catch (error) {
    await kill();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const broker: Broker = {
    kind: "mosquitto",
    url: `mqtt://127.0.0.1:${port}`,
    port,
    mqtt5: true,
    async restart(downMs = 300) {
      await kill();
      await sleep(downMs);
      await launch();
    },
    stopBroker: kill,
    startBroker: launch,
    freeze() {
      const c = child!;
      c.kill("SIGSTOP");
      return () => c.kill("SIGCONT");
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (tlsPort && certs) {
    broker.tlsUrl = `mqtts://localhost:${tlsPort}`;
    broker.caFile = certs.ca;
    broker.otherCaFile = certs.other;
  }
  if (wsPort) broker.wsUrl = `ws://127.0.0.1:${wsPort}`;
  if (wssPort) broker.wssUrl = `wss://localhost:${wssPort}`;
  if (mtlsPort && certs) {
    broker.mtlsUrl = `mqtts://localhost:${mtlsPort}`;
    broker.caFile = certs.ca;
    broker.otherCaFile = certs.other;
    broker.clientCertFile = join(dir, "client.pem");
    broker.clientKeyFile = join(dir, "client.key");
    broker.otherClientCertFile = join(dir, "stranger.pem");
    broker.otherClientKeyFile = join(dir, "stranger.key");
  }
  return broker;
}

async function startAedes(options: BrokerOptions): Promise<Broker> {
  const { Aedes } = await import("aedes");
  const { createServer: createBrokerServer } = await import("aedes-server-factory");
  const port = await freePort();
  const wsPort = options.websockets ? await freePort() : undefined;
  let aedes: Awaited<ReturnType<typeof Aedes.createBroker>> | undefined;
  let server: Server | undefined;
  let wsServer: Server | undefined;
  const launch = async () => {
    if (aedes) return;
    aedes = await Aedes.createBroker();
    server = createBrokerServer(aedes) as Server;
    await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
    if (wsPort) {
      wsServer = createBrokerServer(aedes, { ws: true }) as Server;
      await new Promise<void>((resolve) => wsServer!.listen(wsPort, "127.0.0.1", resolve));
    }
  };
  const close = async () => {
    const s = server;
    const w = wsServer;
    const a = aedes;
    server = undefined;
    wsServer = undefined;
    aedes = undefined;
    if (!s || !a) return;
    await new Promise<void>((resolve) => a.close(() => resolve()));
    await new Promise((resolve) => s.close(resolve));
    if (w) {
      (w as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise((resolve) => w.close(resolve));
    }
  };
  await launch();
  return {
    kind: "aedes",
    url: `mqtt://127.0.0.1:${port}`,
    port,
    ...(wsPort ? { wsUrl: `ws://127.0.0.1:${wsPort}` } : {}),
    mqtt5: false,
    async restart(downMs = 300) {
      await close();
      await sleep(downMs);
      await launch();
    },
    stopBroker: close,
    startBroker: launch,
    stop: close,
  };
}

/** Finds or starts a broker: `MQTT_URL`, then Mosquitto, then aedes in process. */
export async function startBroker(options: BrokerOptions = {}): Promise<Broker> {
  const env = process.env.MQTT_URL;
  if (
    env &&
    !options.aedes &&
    !options.tls &&
    !options.auth &&
    !options.persistence &&
    !options.websockets &&
    !options.clientCertificates
  ) {
    const port = Number(new URL(env).port || 1883);
    return {
      kind: "env",
      url: env,
      port,
      mqtt5: true,
      restart: async () => {
        throw new Error("cannot restart a broker given by MQTT_URL");
      },
      stopBroker: async () => {
        throw new Error("cannot stop a broker given by MQTT_URL");
      },
      startBroker: async () => {
        throw new Error("cannot start a broker given by MQTT_URL");
      },
      stop: async () => undefined,
    };
  }
  if (MOSQUITTO && !options.aedes) return startMosquitto(options);
  if (options.tls || options.auth || options.clientCertificates)
    throw new Error("TLS and authentication tests need the mosquitto binary");
  return startAedes(options);
}
