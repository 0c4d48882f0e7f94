"""A pymodbus 3.0 server for tagbridge tests: TCP or RTU on a serial device, with given contents.

Usage: /usr/bin/python3 pymodbus_server.py '<json>'; JSON: {"tcp": port} or {"serial": path, "baud": 9600},
and "units": {"1": {"hr": [..], "ir": [..], "co": [..], "di": [..]}}. Unit ids not listed get no
answer. Prints READY once serving.
"""
import asyncio
import json
import sys

from pymodbus.constants import Endian
from pymodbus.payload import BinaryPayloadBuilder
from pymodbus.datastore import ModbusServerContext, ModbusSlaveContext, ModbusSequentialDataBlock
from pymodbus.server import StartAsyncSerialServer, StartAsyncTcpServer
from pymodbus.transaction import ModbusRtuFramer


def block(values):
    return ModbusSequentialDataBlock(0, list(values))


# Byte orders by tagbridge name -> (byteorder, wordorder) of pymodbus' BinaryPayloadBuilder.
ORDERS = {
    "ABCD": (Endian.Big, Endian.Big),
    "CDAB": (Endian.Big, Endian.Little),
    "BADC": (Endian.Little, Endian.Big),
    "DCBA": (Endian.Little, Endian.Little),
}


def encode(kind, value, order):
    """Registers of one value, computed by pymodbus itself (independent of tagbridge's codec)."""
    byteorder, wordorder = ORDERS[order]
    b = BinaryPayloadBuilder(byteorder=byteorder, wordorder=wordorder)
    if kind in ("int64", "uint64"):
        value = int(value)  # sent as decimal text: JSON numbers cannot carry them exactly
    if kind == "string":
        b.add_string(value)
    else:
        getattr(b, "add_" + {"int16": "16bit_int", "uint16": "16bit_uint", "int32": "32bit_int",
                             "uint32": "32bit_uint", "int64": "64bit_int", "uint64": "64bit_uint",
                             "float32": "32bit_float", "float64": "64bit_float"}[kind])(value)
    return b.to_registers()


def apply_payloads(tables, payloads):
    for p in payloads or []:
        regs = encode(p["type"], p["value"], p.get("order", "ABCD"))
        target = tables.setdefault(p.get("table", "hr"), [0] * 10)
        end = p["address"] + len(regs)
        if len(target) < end:
            target.extend([0] * (end - len(target)))
        target[p["address"]:end] = regs


async def main(cfg):
    slaves = {}
    for uid, tables in cfg["units"].items():
        apply_payloads(tables, tables.pop("payloads", None))
        slaves[int(uid)] = ModbusSlaveContext(
            hr=block(tables.get("hr", [0] * 10)),
            ir=block(tables.get("ir", [0] * 10)),
            co=block(tables.get("co", [False] * 10)),
            di=block(tables.get("di", [False] * 10)),
            zero_mode=True,
        )
    context = ModbusServerContext(slaves=slaves, single=False)
    if "tcp" in cfg:
        # Reusing the address lets a restarted server bind the port its killed predecessor held.
        server = await StartAsyncTcpServer(
            context=context, address=("127.0.0.1", cfg["tcp"]), allow_reuse_address=True, defer_start=True,
        )
    else:
        server = await StartAsyncSerialServer(
            context=context, framer=ModbusRtuFramer, port=cfg["serial"], baudrate=cfg.get("baud", 9600),
            defer_start=True,
        )
        await server.start()
    task = asyncio.create_task(server.serve_forever())
    if "tcp" in cfg:
        # READY only once the port is bound; a failed bind ends the script with its error.
        await asyncio.wait({task, server.serving}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()
    await asyncio.sleep(0.2)
    print("READY", flush=True)
    await task


asyncio.run(main(json.loads(sys.argv[1])))
