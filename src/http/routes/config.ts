/**
 * Configuration through the API (admin): export with secrets masked, reload, and create / update /
 * delete of devices and points. Every change is validated by the same schemas as the YAML file,
 * written back to the file (comments and order of untouched parts kept) and applied at once, only
 * changed devices restarting. `GET /adapters` (viewer) lists adapter types with their JSON Schemas.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import {
  addDevice,
  addPoint,
  type Edit,
  EditConflict,
  EditRefused,
  removeDevice,
  removePoint,
  replaceDevice,
  replacePoint,
} from "../../config/edit.js";
import type { ConfigError } from "../../config/errors.js";
import type { ConfigChange } from "../../config/manager.js";
import type { GatewayView } from "../../core/types.js";
import type { AdapterDefinition } from "../../sdk/adapter.js";
import { CodedError, errorResponses, fail } from "../errors.js";
import { DeviceInfoSchema, DeviceParamsSchema, PointInfoSchema, PointParamsSchema } from "../schemas.js";

/** What the routes need of the service's config manager. */
export interface ConfigAccess {
  masked(): unknown;
  reload(): Promise<ConfigChange>;
  edit(change: Edit): Promise<ConfigChange>;
}

const AdapterInfoSchema = Type.Object({
  type: Type.String(),
  description: Type.String(),
  capabilities: Type.Array(Type.String()),
  connectionSchema: Type.Unknown({ description: "JSON Schema of a device's `connection`." }),
  pointSchema: Type.Unknown({
    description: "JSON Schema of the adapter's own point fields (the core fields come on top).",
  }),
});
const ItemSchema = Type.Object(
  {
    id: Type.String({
      description: "Id of the new or replaced item; everything else is checked like the YAML file.",
    }),
  },
  { additionalProperties: true, description: "A device or point exactly as in the config file." },
);
const OkSchema = Type.Object({ ok: Type.Literal(true) });
const auth = ["TB_ERR_UNAUTHORIZED", "TB_ERR_FORBIDDEN"] as const;
const changeErrors = errorResponses(
  "TB_ERR_BAD_REQUEST",
  ...auth,
  "TB_ERR_DEVICE_NOT_FOUND",
  "TB_ERR_POINT_NOT_FOUND",
  "TB_ERR_ALREADY_EXISTS",
  "TB_ERR_CONFIG_INVALID",
);

function invalid(errors: readonly ConfigError[]): never {
  const details = errors.map((e) => ({
    field: e.path,
    message: e.line ? `${e.message} (line ${e.line})` : e.message,
  }));
  throw new CodedError("TB_ERR_CONFIG_INVALID", details);
}

/** A replace names what it replaces in the path; a body with another id is a mistake, not a rename. */
function sameId(inPath: string, inBody: string): void {
  if (inPath !== inBody)
    fail("TB_ERR_BAD_REQUEST", [
      {
        field: "body.id",
        message: `'${inBody}' differs from '${inPath}' in the path; a replace does not rename`,
      },
    ]);
}

/** Runs an edit; maps conflicts and validation errors to coded answers. */
async function change(
  config: ConfigAccess,
  edit: Edit,
  missing: "TB_ERR_DEVICE_NOT_FOUND" | "TB_ERR_POINT_NOT_FOUND",
): Promise<void> {
  let result: ConfigChange;
  try {
    result = await config.edit(edit);
  } catch (error) {
    if (error instanceof EditRefused) invalid([{ path: error.path, message: error.message }]);
    if (!(error instanceof EditConflict)) throw error;
    fail(error.reason === "exists" ? "TB_ERR_ALREADY_EXISTS" : missing, [
      { field: "request", message: error.message },
    ]);
  }
  if (!result.ok) invalid(result.errors);
}

export const configRoutes: FastifyPluginAsyncTypebox<{
  gateway: GatewayView;
  config: ConfigAccess;
  adapters: () => readonly AdapterDefinition[];
}> = async (app, { gateway, config, adapters }) => {
  const tags = ["configuration"];
  const point = (device: string, id: string) => gateway.points(device)?.find((p) => p.id === id);

  app.get(
    "/adapters",
    {
      config: { role: "viewer" },
      schema: {
        summary: "Adapter types with their config JSON Schemas",
        tags,
        response: { 200: Type.Array(AdapterInfoSchema), ...errorResponses(...auth) },
      },
    },
    async () =>
      adapters().map((d) => ({
        type: d.type,
        description: d.description,
        capabilities: [...d.capabilities],
        connectionSchema: d.connectionSchema,
        pointSchema: d.pointSchema,
      })),
  );

  app.get(
    "/config",
    {
      config: { role: "admin" },
      schema: {
        summary: "The running configuration, secrets masked",
        tags,
        response: { 200: Type.Unknown(), ...errorResponses(...auth) },
      },
    },
    async () => config.masked(),
  );

  app.post(
    "/config/reload",
    {
      config: { role: "admin" },
      schema: {
        summary: "Re-read the config file and apply it",
        tags,
        response: { 200: OkSchema, ...errorResponses(...auth, "TB_ERR_CONFIG_INVALID") },
      },
    },
    async () => {
      const result = await config.reload();
      if (!result.ok) invalid(result.errors);
      return { ok: true as const };
    },
  );

  app.post(
    "/devices",
    {
      config: { role: "admin" },
      schema: {
        summary: "Add a device",
        tags,
        body: ItemSchema,
        response: { 201: DeviceInfoSchema, ...changeErrors },
      },
    },
    async (request, reply) => {
      await change(config, addDevice(request.body), "TB_ERR_DEVICE_NOT_FOUND");
      return reply.code(201).send(gateway.device(request.body.id)!);
    },
  );

  app.put(
    "/devices/:device",
    {
      config: { role: "admin" },
      schema: {
        summary: "Replace a device",
        tags,
        params: DeviceParamsSchema,
        body: ItemSchema,
        response: { 200: DeviceInfoSchema, ...changeErrors },
      },
    },
    async (request) => {
      sameId(request.params.device, request.body.id);
      await change(config, replaceDevice(request.params.device, request.body), "TB_ERR_DEVICE_NOT_FOUND");
      return gateway.device(request.body.id)!;
    },
  );

  app.delete(
    "/devices/:device",
    {
      config: { role: "admin" },
      schema: {
        summary: "Remove a device",
        tags,
        params: DeviceParamsSchema,
        response: { 204: Type.Null(), ...changeErrors },
      },
    },
    async (request, reply) => {
      await change(config, removeDevice(request.params.device), "TB_ERR_DEVICE_NOT_FOUND");
      return reply.code(204).send(null);
    },
  );

  app.post(
    "/devices/:device/points",
    {
      config: { role: "admin" },
      schema: {
        summary: "Add a point to a device",
        tags,
        params: DeviceParamsSchema,
        body: ItemSchema,
        response: { 201: PointInfoSchema, ...changeErrors },
      },
    },
    async (request, reply) => {
      await change(config, addPoint(request.params.device, request.body), "TB_ERR_DEVICE_NOT_FOUND");
      return reply.code(201).send(point(request.params.device, request.body.id)!);
    },
  );

  app.put(
    "/devices/:device/points/:point",
    {
      config: { role: "admin" },
      schema: {
        summary: "Replace a point",
        tags,
        params: PointParamsSchema,
        body: ItemSchema,
        response: { 200: PointInfoSchema, ...changeErrors },
      },
    },
    async (request) => {
      const { device, point: id } = request.params;
      sameId(id, request.body.id);
      await change(
        config,
        replacePoint(device, id, request.body),
        gateway.device(device) ? "TB_ERR_POINT_NOT_FOUND" : "TB_ERR_DEVICE_NOT_FOUND",
      );
      return point(device, request.body.id)!;
    },
  );

  app.delete(
    "/devices/:device/points/:point",
    {
      config: { role: "admin" },
      schema: {
        summary: "Remove a point",
        tags,
        params: PointParamsSchema,
        response: { 204: Type.Null(), ...changeErrors },
      },
    },
    async (request, reply) => {
      const { device, point: id } = request.params;
      await change(
        config,
        removePoint(device, id),
        gateway.device(device) ? "TB_ERR_POINT_NOT_FOUND" : "TB_ERR_DEVICE_NOT_FOUND",
      );
      return reply.code(204).send(null);
    },
  );
};
