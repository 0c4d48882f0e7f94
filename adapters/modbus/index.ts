/**
 * The Modbus adapter definition: Modbus TCP, RTU on a serial line and RTU over TCP, every data type
 * and byte order, gap-filling block reads, confirmed writes, and units demoted on repeated timeouts.
 */
import { AddressError } from "../../protocols/modbus/address.js";
import { makeDecoder } from "../../protocols/modbus/codec.js";
import { resolvePoint } from "../../protocols/modbus/spec.js";
import { isBitTable } from "../../protocols/modbus/types.js";
import { type ConfigProblem, defineAdapter } from "../../src/sdk/index.js";
import { createModbus } from "./adapter.js";
import { ModbusConnectionSchema, ModbusPointSchema } from "./config.js";

/** Unit ids a request on a serial line can be answered from: 0 is broadcast (never answered), 248–255 are reserved. */
function isSerialUnit(unitId: number): boolean {
  return unitId >= 1 && unitId <= 247;
}

function serialUnitProblem(unitId: number): string {
  const why = unitId === 0 ? "0 is the broadcast address, which no unit answers" : `${unitId} is reserved`;
  return `unit id ${unitId} cannot be used on a serial line (rtu, rtuOverTcp): ${why}; use 1–247`;
}

/** The `modbus` adapter type. */
export const modbusAdapter = defineAdapter({
  type: "modbus",
  description:
    "Modbus TCP, RTU (serial) and RTU over TCP: coils, discrete inputs, holding and input registers, every type and byte order, block reads, writes.",
  sdk: "^1.0.0",
  connectionSchema: ModbusConnectionSchema,
  pointSchema: ModbusPointSchema,
  capabilities: ["read", "write"],
  check({ connection, points }) {
    const problems: ConfigProblem[] = [];
    const transport = connection.transport ?? "tcp";
    const serial = transport !== "tcp";
    // What create() needs to build the client, reported here so that validate refuses it too.
    const needed = transport === "rtu" ? "serialPort" : "host";
    if (!connection[needed])
      problems.push({
        path: ["connection", needed],
        message: `transport ${transport} needs connection.${needed}`,
      });
    const defaultUnit = connection.unitId ?? 1;
    if (serial && !isSerialUnit(defaultUnit))
      problems.push({ path: ["connection", "unitId"], message: serialUnitProblem(defaultUnit) });
    points.forEach((point, i) => {
      try {
        const spec = resolvePoint(point, defaultUnit);
        if (!isBitTable(spec.table)) makeDecoder(spec);
        // The point's own unit id; one inherited from the connection was reported there.
        if (serial && point.unitId !== undefined && !isSerialUnit(spec.unitId))
          problems.push({ path: ["points", i, "unitId"], message: serialUnitProblem(spec.unitId) });
      } catch (error) {
        if (!(error instanceof AddressError)) throw error;
        problems.push({ path: ["points", i, "address"], message: error.message });
      }
    });
    return problems;
  },
  create: (ctx) => createModbus(ctx),
  async simulate({ port }) {
    const { startModbusSimulator } = await import("./simulate.js");
    return startModbusSimulator({ port: port ?? 5020 });
  },
});

export default modbusAdapter;
