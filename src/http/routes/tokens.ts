/** API tokens (admin) and who the caller is (any role). */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import { ROLES, type TokenStore } from "../auth/tokens.js";
import { errorResponses, fail } from "../errors.js";

const RoleSchema = Type.Enum(ROLES, {
  description: "viewer reads; operator also writes points; admin also manages config and tokens.",
});
const NameSchema = Type.String({
  pattern: "^[A-Za-z0-9_][A-Za-z0-9_.@-]*$",
  maxLength: 64,
  description: "Token name, shown in the audit log; `anonymous` is reserved.",
});
const TokenInfoSchema = Type.Object(
  { name: NameSchema, role: RoleSchema, createdAt: Type.String({ format: "date-time" }) },
  { additionalProperties: false },
);
const auth = ["TB_ERR_UNAUTHORIZED", "TB_ERR_FORBIDDEN"] as const;

export const tokenRoutes: FastifyPluginAsyncTypebox<{ tokens: TokenStore }> = async (app, { tokens }) => {
  app.get(
    "/whoami",
    {
      config: { role: "viewer" },
      schema: {
        summary: "The caller's token name and role",
        tags: ["auth"],
        response: { 200: Type.Object({ name: Type.String(), role: RoleSchema }), ...errorResponses(...auth) },
      },
    },
    async (request) => request.principal!,
  );

  app.get(
    "/tokens",
    {
      config: { role: "admin" },
      schema: {
        summary: "List API tokens (never their secrets)",
        tags: ["auth"],
        response: { 200: Type.Array(TokenInfoSchema), ...errorResponses(...auth) },
      },
    },
    async () => tokens.list(),
  );

  app.post(
    "/tokens",
    {
      config: { role: "admin" },
      schema: {
        summary: "Create an API token; its secret is in this answer only",
        tags: ["auth"],
        body: Type.Object({ name: NameSchema, role: RoleSchema }, { additionalProperties: false }),
        response: {
          201: Type.Object({
            name: NameSchema,
            role: RoleSchema,
            token: Type.String({ description: "The secret. Store it now: it is kept only hashed." }),
          }),
          ...errorResponses("TB_ERR_BAD_REQUEST", ...auth, "TB_ERR_TOKEN_EXISTS"),
        },
      },
    },
    async (request, reply) => {
      const { name, role } = request.body;
      // `anonymous` is the loopback viewer's name in the audit log and in stream revocation.
      if (name === "anonymous")
        fail("TB_ERR_BAD_REQUEST", [{ field: "body/name", message: "'anonymous' is reserved" }]);
      if (tokens.list().some((t) => t.name === name))
        fail("TB_ERR_TOKEN_EXISTS", [{ field: "body/name", message: `a token named '${name}' exists` }]);
      const token = tokens.create(name, role);
      request.log.info({ name, role, by: request.principal?.name }, "API token created");
      // The secret must not stay in a browser or proxy cache.
      return reply.code(201).header("cache-control", "no-store").send({ name, role, token });
    },
  );

  app.delete(
    "/tokens/:name",
    {
      config: { role: "admin" },
      schema: {
        summary: "Revoke an API token",
        tags: ["auth"],
        params: Type.Object({ name: NameSchema }, { additionalProperties: false }),
        response: {
          204: Type.Null(),
          ...errorResponses("TB_ERR_BAD_REQUEST", ...auth, "TB_ERR_TOKEN_NOT_FOUND"),
        },
      },
    },
    async (request, reply) => {
      if (!tokens.remove(request.params.name))
        fail("TB_ERR_TOKEN_NOT_FOUND", [{ field: "params/name", message: "no such token" }]);
      request.log.info({ name: request.params.name, by: request.principal?.name }, "API token revoked");
      return reply.code(204).send(null);
    },
  );
};
