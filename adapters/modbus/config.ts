/**
 * Settings of the Modbus adapter, declared once in TypeBox: the device's `connection` object and
 * the Modbus fields merged into each point. The README tables are written from these descriptions.
 */
import Type, { type Static } from "typebox";
import { BYTE_ORDERS, TABLES } from "../../protocols/modbus/types.js";

/** How the gateway reaches the device. */
export const TRANSPORTS = ["tcp", "rtu", "rtuOverTcp"] as const;

/** The device's `connection` object. */
export const ModbusConnectionSchema = Type.Object(
  {
    transport: Type.Optional(
      Type.Enum(TRANSPORTS, {
        default: "tcp",
        description:
          "tcp: Modbus TCP (MBAP). rtu: RTU frames on a serial port. rtuOverTcp: RTU frames through a TCP serial server.",
      }),
    ),
    host: Type.Optional(
      Type.String({
        minLength: 1,
        description: "Host name or IP of the device or serial server (tcp, rtuOverTcp).",
      }),
    ),
    port: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 65535, default: 502, description: "TCP port (tcp, rtuOverTcp)." }),
    ),
    serialPort: Type.Optional(
      Type.String({ minLength: 1, description: "Serial device path, e.g. /dev/ttyUSB0 (rtu)." }),
    ),
    baudRate: Type.Optional(
      Type.Integer({ minimum: 50, default: 9600, description: "Serial speed in bit/s (rtu)." }),
    ),
    parity: Type.Optional(
      Type.Enum(["none", "even", "odd", "mark", "space"], {
        default: "none",
        description: "Serial parity (rtu).",
      }),
    ),
    dataBits: Type.Optional(
      Type.Enum([7, 8], { default: 8, description: "Serial data bits (rtu); RTU needs 8." }),
    ),
    stopBits: Type.Optional(Type.Enum([1, 2], { default: 1, description: "Serial stop bits (rtu)." })),
    unitId: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 255,
        default: 1,
        description:
          "Unit id of points that set none. Points may name other unit ids on the same connection. On a serial line (rtu, rtuOverTcp) 1–247: 0 is broadcast and 248–255 are reserved.",
      }),
    ),
    timeoutMs: Type.Optional(
      Type.Integer({
        minimum: 10,
        default: 1000,
        description: "How long to wait for a response, and for the connection, in ms.",
      }),
    ),
    retries: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 10,
        default: 1,
        description: "Times a request that timed out is sent again before its points read bad/Timeout.",
      }),
    ),
    maxInFlight: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 64,
        default: 1,
        description:
          "Requests outstanding at once on a tcp connection (matched by transaction id); above 1, a poll's block reads are pipelined and sent in one write. Serial lines and rtuOverTcp always send one at a time.",
      }),
    ),
    maxRegistersPerRequest: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 125,
        default: 125,
        description: "Most registers one read request asks for; lower it for devices that allow less.",
      }),
    ),
    maxBitsPerRequest: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 2000,
        default: 2000,
        description: "Most coils or discrete inputs one read request asks for.",
      }),
    ),
    maxGapRegisters: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 124,
        default: 16,
        description:
          "Unused registers a read may span to join two blocks into one request. 0 reads only configured registers (for devices that reject reads of unmapped addresses).",
      }),
    ),
    maxGapBits: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1999,
        default: 64,
        description: "Unused coils or discrete inputs a read may span to join two blocks.",
      }),
    ),
    demoteAfterTimeouts: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 3,
        description:
          "Consecutive timed-out requests after which a unit is demoted: its points read bad/Timeout without being asked, so other units on the line keep their rate. It is probed on the device's reconnect backoff: first after reconnect.minMs, the wait doubling per unanswered probe up to reconnect.maxMs.",
      }),
    ),
    demoteForMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          "Longest wait between probes of a demoted unit, when lower than the device's reconnect.maxMs. Unset: reconnect.maxMs.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Modbus connection: transport, address or serial line, unit id, timeouts and request planning.",
  },
);

/** The Modbus fields of a point, merged flat with the core point fields. */
export const ModbusPointSchema = Type.Object(
  {
    address: Type.Union(
      [
        Type.Integer({ minimum: 0, maximum: 65535, description: "0-based protocol address; needs `table`." }),
        Type.String({
          minLength: 1,
          description: "Shorthand `hr:40001:float32:CDAB` / `co:12`, or a classic reference such as `40001`.",
        }),
      ],
      {
        description:
          "Where the value lives: a 0-based address with `table`, the shorthand `<table>:<ref>[:<type>][:<byteOrder>]`, or a classic 0xxxx/1xxxx/3xxxx/4xxxx reference.",
      },
    ),
    table: Type.Optional(
      Type.Enum(TABLES, {
        description:
          "Data table: coil (FC1/5/15), discrete (FC2), holding (FC3/6/16) or input (FC4). Implied by a string address.",
      }),
    ),
    unitId: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 255,
        description:
          "Unit id of this point; defaults to the connection's. On a serial line (rtu, rtuOverTcp) 1–247.",
      }),
    ),
    byteOrder: Type.Optional(
      Type.Enum(BYTE_ORDERS, {
        description:
          "Order of the value's bytes on the wire, A most significant: ABCD big-endian (default), CDAB word-swapped, BADC byte-swapped, DCBA little-endian; the 8-letter names spell the same for 64-bit types.",
      }),
    ),
    bit: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 15,
        description: "For a bool in a holding or input register: the bit, 0 = least significant.",
      }),
    ),
    length: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 250,
        description: "For a string: its length in characters (bytes), two per register.",
      }),
    ),
    count: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 2000,
        description: "For an array type (e.g. `int16[]`): the number of elements.",
      }),
    ),
  },
  { additionalProperties: false, description: "Modbus point settings." },
);

/** Validated `connection` settings. */
export type ModbusSettings = Static<typeof ModbusConnectionSchema>;
/** The Modbus fields of a point. */
export type ModbusPointFields = Static<typeof ModbusPointSchema>;
