/**
 * A real HTTP peer for the tests: a node:http server on a free loopback port serving fixed routes,
 * counting requests per path, and stoppable to make the device unreachable.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** How a route answers: a JSON document, a raw body with a status, or never. */
export type Route = { json: unknown } | { status: number; body: string } | { hang: true };

/** A running peer. */
export interface HttpPeer {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Requests received, by path. */
  hits: Map<string, number>;
  /** Replaces the answer of a path. */
  route(path: string, answer: Route): void;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

/** Starts a peer serving `routes`; unknown paths answer 404. */
export async function startHttpPeer(routes: Record<string, Route>): Promise<HttpPeer> {
  const table = new Map(Object.entries(routes));
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://peer").pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const answer = table.get(path);
    if (!answer) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    } else if ("json" in answer) {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer.json));
    } else if ("status" in answer) {
      res.writeHead(answer.status, { "content-type": "text/plain" }).end(answer.body);
    } // hang: never answers
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    route: (path, answer) => void table.set(path, answer),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
