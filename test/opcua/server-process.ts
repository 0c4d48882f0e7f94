/**
 * An OPC UA test server in a child process, so a test can freeze it (SIGSTOP) with its sockets open:
 * the session stays up while publish responses stop. Prints `{"endpointUrl": …}` on one line once
 * listening; SIGTERM stops it. Run with `node --import tsx`.
 */
import { rm } from "node:fs/promises";
import { startOpcuaServer } from "../../adapters/opcua/simulate.js";
import { tempDir } from "./helpers.js";

const pkiDir = tempDir("opcua-child");
const server = await startOpcuaServer({
  pkiDir,
  variables: [{ name: "temp", dataType: "Double", value: 20 }],
});
process.stdout.write(`${JSON.stringify({ endpointUrl: server.endpointUrl })}\n`);
process.on("SIGTERM", () => {
  void server
    .stop()
    .then(() => rm(pkiDir, { recursive: true, force: true }))
    .finally(() => process.exit(0));
});
