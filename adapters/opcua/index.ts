/**
 * The OPC UA adapter definition: subscriptions and polling, browse, default-secure sessions with a
 * trust workflow, session recovery, writes with type coercion.
 */
import { join } from "node:path";
import { parseNodeId } from "../../protocols/opcua/nodeid.js";
import { type ConfigProblem, defineAdapter } from "../../src/sdk/index.js";
import { createOpcua, isPolled } from "./adapter.js";
import { routeLibraryLogs } from "./client.js";
import { OpcuaConnectionSchema, OpcuaPointSchema } from "./config.js";

import { listCertificates, pkiFolder, removeCertificate, trustCertificate } from "./pki.js";

export { listCertificates, pkiFolder, removeCertificate, trustCertificate };

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
  check({ points }) {
    const problems: ConfigProblem[] = [];
    for (const [i, point] of points.entries()) {
      const parsed = parseNodeId(point.address);
      if (!parsed.ok)
        problems.push({ path: ["points", i, "address"], message: `not an OPC UA node id: ${parsed.error}` });
    }
    return problems;
  },
  create: (ctx) => createOpcua(ctx),
  async simulate({ port, dataDir }) {
    await routeLibraryLogs(); // keep node-opcua's console output out of the demo's terminal
    const { startOpcuaSimulator } = await import("./simulate.js");
    const s = await startOpcuaSimulator({ port: port ?? 4840, pkiDir: join(dataDir, "pki") });
    return { url: s.endpointUrl, port: s.port, stop: () => s.stop() };
  },
  certificates: (sharedDir) => {
    const dir = pkiFolder(sharedDir);
    return {
      list: () => listCertificates(dir),
      trust: (thumbprint) => trustCertificate(dir, thumbprint),
      remove: (thumbprint) => removeCertificate(dir, thumbprint),
    };
  },
});

export default opcuaAdapter;
