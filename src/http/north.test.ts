import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify from "fastify";
import { expect, it } from "vitest";
import type { SinkStatus } from "../north/sink.js";
import { registerErrorHandling } from "./errors.js";
import { northRoutes } from "./routes/north.js";

it("GET /north serves each sink's status, validated by its schema, for viewers", async () => {
  const status: SinkStatus = {
    id: "uns",
    type: "mqtt",
    connected: false,
    published: 10,
    buffered: 5,
    dropped: 2,
    droppedForSize: 1,
    droppedForAge: 0,
    droppedInQueue: 1,
    oldestBufferedAgeMs: 1234,
    publishErrors: 3,
    lastError: "connection refused",
  };
  const app = Fastify().withTypeProvider<TypeBoxTypeProvider>();
  registerErrorHandling(app);
  const configs: unknown[] = [];
  app.addHook("onRoute", (r) => void configs.push(r.config));
  await app.register(northRoutes, { north: { status: () => [status] }, prefix: "/api/v1" });
  const res = await app.inject("/api/v1/north");
  expect(res.statusCode).toBe(200);
  expect(res.json()).toEqual([status]);
  expect(configs).toContainEqual({ role: "viewer" });
  await app.close();
});
