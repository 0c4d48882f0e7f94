import { describe, expect, it } from "vitest";
import { formatNodeId, MAX_STRING_ID, type ParsedNodeId, parseNodeId, resolveNodeId } from "./nodeid.js";

const GUID = "72962b91-fa75-4ae6-8d28-b404dc7daf63";

describe("parseNodeId accepts the standard forms", () => {
  it.each<[string, ParsedNodeId]>([
    ["i=85", { namespace: 0, identifier: { kind: "i", value: 85 } }],
    ["ns=0;i=2255", { namespace: 0, identifier: { kind: "i", value: 2255 } }],
    ["ns=3;i=4294967295", { namespace: 3, identifier: { kind: "i", value: 4294967295 } }],
    ["ns=65535;s=x", { namespace: 65535, identifier: { kind: "s", value: "x" } }],
    ["ns=2;s=Line1.Temperature", { namespace: 2, identifier: { kind: "s", value: "Line1.Temperature" } }],
    ["s=Demo.Sine", { namespace: 0, identifier: { kind: "s", value: "Demo.Sine" } }],
    // A string identifier may hold anything, including text that looks like another node id.
    ["ns=1;s=a;b=c", { namespace: 1, identifier: { kind: "s", value: "a;b=c" } }],
    ["ns=1;s=x ns=2;i=5", { namespace: 1, identifier: { kind: "s", value: "x ns=2;i=5" } }],
    ["ns=1;s= lead", { namespace: 1, identifier: { kind: "s", value: " lead" } }],
    [`ns=4;g=${GUID}`, { namespace: 4, identifier: { kind: "g", value: GUID.toUpperCase() } }],
    ["ns=1;b=aGkh", { namespace: 1, identifier: { kind: "b", value: "aGkh" } }],
    ["b=aGk=", { namespace: 0, identifier: { kind: "b", value: "aGk=" } }],
    [
      "nsu=urn:tagbridge:test;s=temp",
      { namespace: "urn:tagbridge:test", identifier: { kind: "s", value: "temp" } },
    ],
    [
      "nsu=http://example.com/UA/;i=1001",
      { namespace: "http://example.com/UA/", identifier: { kind: "i", value: 1001 } },
    ],
    [`nsu=urn:x;g=${GUID}`, { namespace: "urn:x", identifier: { kind: "g", value: GUID.toUpperCase() } }],
    ["nsu=urn:x;b=AAE=", { namespace: "urn:x", identifier: { kind: "b", value: "AAE=" } }],
    // The URI ends at the first semicolon; an escaped one belongs to it.
    ["nsu=urn:a%3Bb;s=c;d", { namespace: "urn:a;b", identifier: { kind: "s", value: "c;d" } }],
    ["nsu=urn:100%25;i=1", { namespace: "urn:100%", identifier: { kind: "i", value: 1 } }],
  ])("%s", (text, nodeId) => {
    expect(parseNodeId(text)).toEqual({ ok: true, nodeId });
  });
});

describe("parseNodeId refuses malformed node ids, saying why", () => {
  it.each<[string, RegExp]>([
    ["ns=1;x=Demo.Sine", /unknown identifier type/],
    ["ns=abc;s=Demo.Sine", /namespace index 'abc' is not a number/],
    ["ns=;s=a", /namespace index '' is not a number/],
    ["ns=-1;i=1", /not a number/],
    ["ns=70000;i=1", /exceeds 65535/],
    ["Demo.Sine", /unknown identifier type/],
    ["RootFolder", /unknown identifier type/],
    [GUID, /unknown identifier type/],
    ["ns=1;g=72962B91-FA75-4AE6-8D28", /is not a guid/],
    ["ns=1;g=72962B91FA754AE68D28B404DC7DAF63", /is not a guid/],
    ["ns=1;g=Z2962B91-FA75-4AE6-8D28-B404DC7DAF63", /is not a guid/],
    ["ns=1;i=12ab", /'12ab' is not a number/],
    ["ns=1;i=", /'' is not a number/],
    ["i=-5", /not a number/],
    ["i=1.5", /not a number/],
    ["ns=1;i=4294967296", /exceeds 4294967295/],
    ["ns=1;s=", /string identifier is empty/],
    [`ns=1;s=${"x".repeat(MAX_STRING_ID + 1)}`, /longer than 4096/],
    ["ns=1;b=not base64!", /not a base64/],
    ["ns=1;b=abc", /not a base64/],
    ["ns=1;b=", /not a base64/],
    ["ns=1", /no identifier/],
    ["nsu=urn:x", /no identifier/],
    ["nsu=;s=a", /namespace URI is empty/],
    ["nsu=urn:%zz;s=a", /bad % escape/],
    ["nsu=urn:x;ns=1;s=a", /unknown identifier type/],
    ["svr=1;ns=1;i=1", /svr=/],
    ["", /empty/],
    [" ns=1;s=a", /white space/],
    ["ns=1;s=a\n", /white space/],
    ["ns=1; s=a", /unknown identifier type/],
    ["NS=1;s=a", /unknown identifier type/],
    ["xns=1;i=5", /unknown identifier type/],
  ])("%j", (text, why) => {
    const r = parseNodeId(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(why);
  });
});

describe("formatNodeId and resolveNodeId", () => {
  const parsed = (text: string) => {
    const r = parseNodeId(text);
    if (!r.ok) throw new Error(r.error);
    return r.nodeId;
  };

  it("writes the canonical ns= form", () => {
    expect(formatNodeId(0, { kind: "i", value: 85 })).toBe("ns=0;i=85");
    expect(formatNodeId(2, { kind: "s", value: "a;b" })).toBe("ns=2;s=a;b");
  });

  it("canonical text parses back to the same node id", () => {
    for (const text of ["ns=1;s=a;b=c", `ns=7;g=${GUID}`, "ns=0;b=aGk=", "i=1"]) {
      const p = parsed(text);
      expect(parsed(formatNodeId(p.namespace as number, p.identifier))).toEqual(p);
    }
  });

  it("resolves a namespace URI to its index in the server's namespace array, each time anew", () => {
    const p = parsed("nsu=urn:b;s=temp");
    expect(resolveNodeId(p, ["http://opcfoundation.org/UA/", "urn:server", "urn:a", "urn:b"])).toBe(
      "ns=3;s=temp",
    );
    expect(resolveNodeId(p, ["http://opcfoundation.org/UA/", "urn:server", "urn:b", "urn:a"])).toBe(
      "ns=2;s=temp",
    );
    expect(resolveNodeId(p, ["http://opcfoundation.org/UA/", "urn:server"])).toBeUndefined();
  });

  it("leaves index node ids as they are, whatever the namespace array", () => {
    expect(resolveNodeId(parsed("ns=5;i=9"), [])).toBe("ns=5;i=9");
  });
});
