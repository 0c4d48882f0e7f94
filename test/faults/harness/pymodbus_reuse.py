"""Runs test/peers/pymodbus_server.py with SO_REUSEADDR on its listening socket.

pymodbus 3.0 binds without it, so a server killed while a client was connected cannot listen on
the same port again until the old connection's TIME_WAIT ends (a minute). Real devices restart on
their port at once; so does this one. Usage: pymodbus_reuse.py <server script> '<json>'.
"""
import runpy
import socket
import sys

_bind = socket.socket.bind


def bind(self, address):
    if self.type == socket.SOCK_STREAM:
        self.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return _bind(self, address)


socket.socket.bind = bind
script = sys.argv[1]
sys.argv = [script] + sys.argv[2:]
runpy.run_path(script, run_name="__main__")
