import { describe, expect, it } from "vitest";
import { MASK, maskSecrets } from "./mask.js";

describe("maskSecrets", () => {
  it("masks secret-looking keys at any depth, header names included, and nothing else", () => {
    const config = {
      devices: [{ connection: { password: "p1", host: "plc-1", identity: { privateKey: "k" } } }],
      north: [
        {
          type: "http-webhook",
          url: "https://hooks.example/x",
          headers: { Authorization: "Bearer abc", "X-Api-Key": "k2", "x-api_key": "k3", Cookie: "c" },
          token: "t",
        },
      ],
      auth: { tokens: [{ name: "ops" }] },
    };
    expect(maskSecrets(config)).toEqual({
      devices: [{ connection: { password: MASK, host: "plc-1", identity: { privateKey: MASK } } }],
      north: [
        {
          type: "http-webhook",
          url: "https://hooks.example/x",
          headers: { Authorization: MASK, "X-Api-Key": MASK, "x-api_key": MASK, Cookie: MASK },
          token: MASK,
        },
      ],
      auth: { tokens: [{ name: "ops" }] },
    });
  });

  it("masks values that came from placeholders, by path, whatever their key", () => {
    const out = maskSecrets({ north: [{ url: "https://u:p@h/x" }] }, ["north[0].url"]) as {
      north: { url: string }[];
    };
    expect(out.north[0]?.url).toBe(MASK);
  });
});
