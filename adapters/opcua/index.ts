/**
 * The OPC UA adapter definition: subscriptions and polling, browse, default-secure sessions with a
 * trust workflow, session recovery, writes with type coercion.
 */
import { defineAdapter } from "../../src/sdk/index.js";
import { createOpcua, isPolled } from "./adapter.js";
import { OpcuaConnectionSchema, OpcuaPointSchema } from "./config.js";

export { listCertificates, pkiFolder, removeCertificate, trustCertificate } from "./pki.js";

/** The `opcua` adapter type. */
export const opcuaAdapter = defineAdapter({
  type: "opcua",
  description:
    "OPC UA client (node-opcua): monitored items and polling, browse, secure sessions with a certificate trust list, writes.",
  sdk: "^1.0.0",
  connectionSchema: OpcuaConnectionSchema,
  pointSchema: OpcuaPointSchema,
  capabilities: ["read", "subscribe", "write", "browse"],
  polled: isPolled,
  create: (ctx) => createOpcua(ctx),
});

export default opcuaAdapter;
