/** Configured devices, their state and counters, and their points with the latest readings. */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { GatewayView } from "../../core/types.js";
import { deviceFailure, errorResponses, fail } from "../errors.js";
import {
  BrowseNodeSchema,
  BrowseQuerySchema,
  DeviceInfoSchema,
  DeviceParamsSchema,
  PointInfoSchema,
  PointParamsSchema,
} from "../schemas.js";

const notFound = (device: string) =>
  fail("TB_ERR_DEVICE_NOT_FOUND", [{ field: "params/device", message: `no device "${device}"` }]);

export const devicesRoutes: FastifyPluginAsyncTypebox<{ gateway: GatewayView }> = async (
  app,
  { gateway },
) => {
  app.get(
    "/devices",
    {
      config: { role: "viewer" },
      schema: {
        summary: "List the configured devices",
        tags: ["devices"],
        response: { 200: Type.Array(DeviceInfoSchema), ...errorResponses() },
      },
    },
    async () => gateway.devices(),
  );

  app.get(
    "/devices/:device",
    {
      config: { role: "viewer" },
      schema: {
        summary: "One device, with its state and counters",
        tags: ["devices"],
        params: DeviceParamsSchema,
        response: {
          200: DeviceInfoSchema,
          ...errorResponses("TB_ERR_BAD_REQUEST", "TB_ERR_DEVICE_NOT_FOUND"),
        },
      },
    },
    async (request) => gateway.device(request.params.device) ?? notFound(request.params.device),
  );

  app.get(
    "/devices/:device/points",
    {
      config: { role: "viewer" },
      schema: {
        summary: "The points of a device, each with its latest reading",
        tags: ["devices"],
        params: DeviceParamsSchema,
        response: {
          200: Type.Array(PointInfoSchema),
          ...errorResponses("TB_ERR_BAD_REQUEST", "TB_ERR_DEVICE_NOT_FOUND"),
        },
      },
    },
    async (request) => gateway.points(request.params.device) ?? notFound(request.params.device),
  );

  app.get(
    "/devices/:device/points/:point",
    {
      config: { role: "viewer" },
      schema: {
        summary: "One point of a device, with its latest reading",
        tags: ["devices"],
        params: PointParamsSchema,
        response: {
          200: PointInfoSchema,
          ...errorResponses("TB_ERR_BAD_REQUEST", "TB_ERR_DEVICE_NOT_FOUND", "TB_ERR_POINT_NOT_FOUND"),
        },
      },
    },
    async (request) => {
      const { device, point } = request.params;
      const found = (gateway.points(device) ?? notFound(device)).find((p) => p.id === point);
      return (
        found ??
        fail("TB_ERR_POINT_NOT_FOUND", [
          { field: "params/point", message: `no point "${point}" on "${device}"` },
        ])
      );
    },
  );

  app.get(
    "/devices/:device/plan",
    {
      config: { role: "viewer" },
      schema: {
        summary: "How the adapter reads the device's points (e.g. Modbus block requests)",
        tags: ["devices"],
        params: DeviceParamsSchema,
        response: {
          200: Type.Unknown({ description: "Adapter-specific JSON; see the adapter's README." }),
          ...errorResponses("TB_ERR_BAD_REQUEST", "TB_ERR_DEVICE_NOT_FOUND", "TB_ERR_NOT_SUPPORTED"),
        },
      },
    },
    async (request) => {
      const plan = gateway.plan(request.params.device);
      if (plan === undefined)
        fail("TB_ERR_NOT_SUPPORTED", [{ field: "params/device", message: "this adapter has no read plan" }]);
      return plan;
    },
  );

  app.get(
    "/devices/:device/browse",
    {
      config: { role: "viewer" },
      schema: {
        summary: "Children of a node of the device's address space (root when `node` is omitted)",
        tags: ["devices"],
        params: DeviceParamsSchema,
        querystring: BrowseQuerySchema,
        response: {
          200: Type.Array(BrowseNodeSchema),
          ...errorResponses(
            "TB_ERR_BAD_REQUEST",
            "TB_ERR_DEVICE_NOT_FOUND",
            "TB_ERR_NOT_SUPPORTED",
            "TB_ERR_DEVICE_NOT_CONNECTED",
            "TB_ERR_DEVICE_ERROR",
          ),
        },
      },
    },
    async (request) => gateway.browse(request.params.device, request.query.node).catch(deviceFailure),
  );
};
