/**
 * An OPC UA server in its own process, for a fault case that kills it by PID (SIGKILL: no orderly
 * close of its sessions and channels, as when a PLC loses power). Usage:
 * `node --import tsx opcua-child.ts '<json {port, pkiDir, variables}>'`; prints READY <endpointUrl>.
 */
import { type ServedVariable, startOpcuaServer } from "../../../adapters/opcua/simulate.js";

const { port, pkiDir, variables } = JSON.parse(process.argv[2] ?? "{}") as {
  port: number;
  pkiDir: string;
  variables: ServedVariable[];
};
const server = await startOpcuaServer({ port, pkiDir, variables });
process.stdout.write(`READY ${server.endpointUrl}\n`);
