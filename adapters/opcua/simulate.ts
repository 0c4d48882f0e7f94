/**
 * An OPC UA server for demos and tests: `startOpcuaServer` serves given variables on 127.0.0.1;
 * `startOpcuaSimulator` serves a small plant (a folder tree, changing variables of many types,
 * writable setpoints) for `tagbridge demo`. Security None is offered next to Basic256Sha256 and
 * Aes128_Sha256_RsaOaep Sign/SignAndEncrypt; the server accepts any client certificate.
 */
import { mkdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AccessLevelFlag,
  DataType,
  MessageSecurityMode,
  makeEUInformation,
  type Namespace,
  OPCUACertificateManager,
  OPCUAServer,
  SecurityPolicy,
  type StatusCode,
  StatusCodes,
  type UAObject,
  type UAVariable,
  Variant,
  VariantArrayType,
} from "node-opcua";
import { convertPEMtoDER } from "node-opcua-crypto";

/** One variable the server holds, at `ns=1;s=<name>`. */
export interface ServedVariable {
  /** Browse name, and the string part of the node id. */
  name: string;
  /** Built-in data type name, e.g. `Double`, `UInt64`, `LocalizedText`. */
  dataType: keyof typeof DataType;
  /** Initial value, in node-opcua's form for the type (Int64 as `[high, low]`). */
  value: unknown;
  /** An array of `dataType`. */
  array?: boolean;
  /** Clients may write it. */
  writable?: boolean;
  /** Engineering unit symbol: makes it an AnalogItem with EngineeringUnits and an EURange 0..1000. */
  unit?: string;
  /** Initial status code name (default Good). */
  status?: keyof typeof StatusCodes;
  /** Folder path under Objects, e.g. `Plant/Line1`; default `Test`. */
  folder?: string;
  /** URI of the namespace it lives in (one of ServerOptions.namespaces); default the server's own (ns=1). */
  namespace?: string;
}

/** What `startOpcuaServer` serves. */
export interface ServerOptions {
  /** TCP port; 0 or omitted picks a free one. */
  port?: number;
  variables?: readonly ServedVariable[];
  /** PKI folder of the server (its certificate survives restarts when reused); default a fresh temp dir. */
  pkiDir?: string;
  /** Offer security mode None (default true). */
  allowNone?: boolean;
  /** Accept anonymous sessions (default true). */
  allowAnonymous?: boolean;
  /** user name → password, for username/password logins. */
  users?: Record<string, string>;
  /**
   * PEM files of the user certificates the server trusts for X.509 logins. When given, any other user
   * certificate is refused (BadIdentityTokenRejected); when omitted, every user certificate is accepted.
   */
  trustedUserCertificates?: readonly string[];
  /**
   * Extra namespace URIs, registered in this order after the server's own (so the first is ns=2);
   * a restart with another order renumbers them, as a real server may after an update.
   */
  namespaces?: readonly string[];
}

/** A running server. */
export interface RunningServer {
  endpointUrl: string;
  port: number;
  pkiDir: string;
  /** Sets a variable's value (and optionally status), stamped now. */
  set(name: string, value: unknown, status?: keyof typeof StatusCodes): void;
  /** The variable's current value in node-opcua's form. */
  get(name: string): unknown;
  /** The server object, for tests that need more. */
  server: OPCUAServer;
  stop(): Promise<void>;
}

/** Starts a node-opcua server on 127.0.0.1 serving `options.variables`. */
export async function startOpcuaServer(options: ServerOptions = {}): Promise<RunningServer> {
  const pkiDir = options.pkiDir ?? join(tmpdir(), `tagbridge-opcua-server-${process.pid}-${Date.now()}`);
  await mkdir(pkiDir, { recursive: true });
  const serverCertificateManager = new OPCUACertificateManager({
    rootFolder: join(pkiDir, "server"),
    automaticallyAcceptUnknownCertificate: true,
  });
  const userCertificateManager = new OPCUACertificateManager({
    rootFolder: join(pkiDir, "user"),
    automaticallyAcceptUnknownCertificate: options.trustedUserCertificates === undefined,
  });
  const users = options.users ?? {};
  const allowNone = options.allowNone ?? true;
  const server = new OPCUAServer({
    port: options.port ?? 0,
    host: "127.0.0.1",
    hostname: "127.0.0.1",
    serverCertificateManager,
    userCertificateManager,
    allowAnonymous: options.allowAnonymous ?? true,
    securityModes: [
      ...(allowNone ? [MessageSecurityMode.None] : []),
      MessageSecurityMode.Sign,
      MessageSecurityMode.SignAndEncrypt,
    ],
    securityPolicies: [
      ...(allowNone ? [SecurityPolicy.None] : []),
      SecurityPolicy.Basic256Sha256,
      SecurityPolicy.Aes128_Sha256_RsaOaep,
    ],
    userManager: { isValidUser: (user: string, password: string) => users[user] === password },
    buildInfo: { productName: "tagbridge-opcua-simulator", buildNumber: "1" },
  });
  await server.initialize();
  for (const file of options.trustedUserCertificates ?? [])
    await userCertificateManager.trustCertificate(convertPEMtoDER(await readFile(file, "utf8")));
  const addressSpace = server.engine.addressSpace!;
  const own = addressSpace.getOwnNamespace();
  const extra = new Map((options.namespaces ?? []).map((uri) => [uri, addressSpace.registerNamespace(uri)]));
  const vars = new Map<string, UAVariable>();
  const folders = new Map<string, UAObject>();
  for (const v of options.variables ?? []) {
    const namespace = v.namespace === undefined ? own : extra.get(v.namespace);
    if (!namespace)
      throw new Error(`variable ${v.name}: namespace ${v.namespace} is not in options.namespaces`);
    vars.set(v.name, addVariable(namespace, folders, v));
  }
  await server.start();
  const port = (server.endpoints[0]?.port as number | undefined) ?? options.port ?? 0;
  const endpointUrl = `opc.tcp://127.0.0.1:${port}`;
  const variable = (name: string) => {
    const v = vars.get(name);
    if (!v) throw new Error(`no variable ${name}`);
    return v;
  };
  let stopped: Promise<void> | undefined;
  return {
    endpointUrl,
    port,
    pkiDir,
    server,
    set(name, value, status = "Good") {
      const v = variable(name);
      const variant = new Variant({
        dataType: v.dataTypeObj.basicDataType,
        arrayType: arrayTypeOf(v),
        value,
      });
      v.setValueFromSource(variant, StatusCodes[status] as StatusCode, new Date());
    },
    get: (name) => variable(name).readValue().value.value,
    stop() {
      stopped ??= server.shutdown(0).then(async () => {
        await serverCertificateManager.dispose();
        await userCertificateManager.dispose();
      });
      return stopped;
    },
  };
}

function arrayTypeOf(v: UAVariable): VariantArrayType {
  return v.valueRank >= 1 ? VariantArrayType.Array : VariantArrayType.Scalar;
}

function folderFor(namespace: Namespace, folders: Map<string, UAObject>, path: string): UAObject {
  const existing = folders.get(path);
  if (existing) return existing;
  const cut = path.lastIndexOf("/");
  const parent =
    cut < 0 ? namespace.addressSpace.rootFolder.objects : folderFor(namespace, folders, path.slice(0, cut));
  const folder = namespace.addFolder(parent, { browseName: path.slice(cut + 1), nodeId: `s=${path}` });
  folders.set(path, folder);
  return folder;
}

function addVariable(namespace: Namespace, folders: Map<string, UAObject>, v: ServedVariable): UAVariable {
  const dataType = DataType[v.dataType];
  const access = v.writable
    ? AccessLevelFlag.CurrentRead | AccessLevelFlag.CurrentWrite
    : AccessLevelFlag.CurrentRead;
  const common = {
    componentOf: folderFor(namespace, folders, v.folder ?? "Test"),
    browseName: v.name,
    nodeId: `s=${v.name}`,
    dataType: v.dataType,
    minimumSamplingInterval: 50,
    accessLevel: access,
    userAccessLevel: access,
    ...(v.array ? { valueRank: 1, arrayDimensions: [0] } : {}),
  };
  const variable = v.unit
    ? namespace.addAnalogDataItem({
        ...common,
        engineeringUnits: makeEUInformation(v.unit, v.unit, v.unit),
        engineeringUnitsRange: { low: 0, high: 1000 },
      })
    : namespace.addVariable(common);
  const arrayType = v.array ? VariantArrayType.Array : VariantArrayType.Scalar;
  const status = StatusCodes[v.status ?? "Good"] as StatusCode;
  variable.setValueFromSource(new Variant({ dataType, arrayType, value: v.value }), status, new Date());
  return variable;
}

/** The demo plant the simulator serves. */
export const SIMULATOR_VARIABLES: readonly ServedVariable[] = [
  { name: "Temperature", dataType: "Double", value: 21.5, unit: "°C", folder: "Plant/Line1/Oven" },
  {
    name: "Setpoint",
    dataType: "Double",
    value: 180,
    unit: "°C",
    writable: true,
    folder: "Plant/Line1/Oven",
  },
  { name: "Counter", dataType: "UInt32", value: 0, folder: "Plant/Line1/Packer" },
  { name: "Running", dataType: "Boolean", value: true, folder: "Plant/Line1/Packer" },
  { name: "Recipe", dataType: "String", value: "BREAD-01", writable: true, folder: "Plant/Line1" },
  { name: "Energy", dataType: "Int64", value: [0, 1000], folder: "Plant/Utilities" },
  { name: "Pressure", dataType: "Float", value: 1.2, unit: "bar", folder: "Plant/Utilities" },
  { name: "Vibration", dataType: "Double", value: [0, 0, 0], array: true, folder: "Plant/Line1/Packer" },
];

/** A running simulator. */
export interface OpcuaSimulator {
  endpointUrl: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts the demo server on 127.0.0.1 (`port` default 4840; 0 picks a free one): temperature and
 * pressure drift, the counter counts and the running flag toggles every second.
 */
export async function startOpcuaSimulator(
  options: { port?: number; pkiDir?: string } = {},
): Promise<OpcuaSimulator> {
  const s = await startOpcuaServer({
    port: options.port ?? 4840,
    variables: SIMULATOR_VARIABLES,
    pkiDir: options.pkiDir,
  });
  let tick = 0;
  const timer = setInterval(() => {
    tick++;
    s.set("Temperature", 180 + 5 * Math.sin(tick / 10) + Math.random() * 0.2);
    s.set("Pressure", 1.2 + 0.05 * Math.cos(tick / 7));
    s.set("Counter", tick);
    s.set("Running", tick % 20 < 15);
    s.set("Energy", [0, 1000 + tick * 3]);
    s.set("Vibration", [Math.random(), Math.random(), Math.random()]);
  }, 1000);
  timer.unref();
  return {
    endpointUrl: s.endpointUrl,
    port: s.port,
    stop: async () => {
      clearInterval(timer);
      await s.stop();
    },
  };
}
