/**
 * A TCP proxy on 127.0.0.1 in front of a test server that records when it accepted each client
 * connection: the server-side count of connection attempts a client makes.
 */
import { createServer, type Socket, connect as tcpConnect } from "node:net";

export interface CountingProxy {
  /** The proxy's own port: point the client here. */
  port: number;
  /** Accept times (performance.now(), ms) of every client connection so far. */
  accepted: number[];
  close(): Promise<void>;
}

/** Forwards every connection to 127.0.0.1:`target` (refused upstream: the client's socket is closed). */
export async function countingProxy(target: number): Promise<CountingProxy> {
  const sockets = new Set<Socket>();
  const accepted: number[] = [];
  const server = createServer((client) => {
    accepted.push(performance.now());
    const upstream = tcpConnect(target, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    accepted,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
