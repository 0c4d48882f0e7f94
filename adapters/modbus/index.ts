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
    points.forEach((point, i) => {
      try {
        const spec = resolvePoint(point, connection.unitId ?? 1);
        if (!isBitTable(spec.table)) makeDecoder(spec);
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
