import { describe, expect, it } from "vitest";
import { chooseEndpoint } from "./endpoint.js";
import { effectiveLimit, layoutSubscriptions } from "./layout.js";

const items = (n: number, key: string) =>
  Array.from({ length: n }, (_, i) => ({ id: `${key}${i}`, nodeId: `ns=1;i=${i}`, paramsKey: key }));
const shape = (subs: ReturnType<typeof layoutSubscriptions>) =>
  subs.map((s) => s.groups.map((g) => `${g.paramsKey}:${g.items.length}`).join(","));

describe("layoutSubscriptions", () => {
  it.each<[string, number, number, number, string[]]>([
    ["fits one", 3, 2, 10, ["a:3,b:2"]],
    ["splits at the limit", 5, 0, 2, ["a:2", "a:2", "a:1"]],
    ["mixes groups to fill", 3, 3, 4, ["a:3,b:1", "b:2"]],
    ["limit below 1 acts as 1", 2, 0, 0, ["a:1", "a:1"]],
    ["no items", 0, 0, 5, []],
  ])("%s", (_n, a, b, max, expected) => {
    const subs = layoutSubscriptions([...items(a, "a"), ...items(b, "b")], max);
    expect(shape(subs)).toEqual(expected);
    expect(subs.every((s) => s.size <= Math.max(1, max))).toBe(true);
  });

  it("keeps every item exactly once", () => {
    const all = [...items(97, "x"), ...items(55, "y")];
    const placed = layoutSubscriptions(all, 20).flatMap((s) =>
      s.groups.flatMap((g) => g.items.map((i) => i.id)),
    );
    expect(placed.sort()).toEqual(all.map((i) => i.id).sort());
  });

  it("lowers the limit to the server's", () => {
    expect([
      effectiveLimit(1000, { itemsPerSubscription: 100 }),
      effectiveLimit(1000, { itemsPerSubscription: 0 }),
      effectiveLimit(50, {}),
    ]).toEqual([100, 1000, 50]);
  });

  it("raises it, within the server's per-subscription maximum, when the session would need too many subscriptions", () => {
    const cases: [number, Parameters<typeof effectiveLimit>[1], number, number][] = [
      // configured, server limits, items → items per subscription
      [1000, { subscriptionsPerSession: 10 }, 20_000, 2000], // node-opcua's server: 10 subscriptions a session
      [1000, { subscriptionsPerSession: 10 }, 5_000, 1000], // fits as configured
      [1000, { subscriptionsPerSession: 10, itemsPerSubscription: 1500 }, 20_000, 1500], // cannot pass the item maximum
      [1000, { subscriptionsPerSession: 0 }, 20_000, 1000], // 0: no limit stated
    ];
    for (const [configured, server, items, expected] of cases)
      expect(effectiveLimit(configured, server, items)).toBe(expected);
  });
});

const P = "http://opcfoundation.org/UA/SecurityPolicy#";
const ep = (securityMode: number, policy: string) => ({ securityMode, securityPolicyUri: P + policy });
const offered = [
  ep(1, "None"),
  ep(2, "Basic256Sha256"),
  ep(3, "Basic256Sha256"),
  ep(3, "Basic256"),
  ep(3, "Aes128_Sha256_RsaOaep"),
];

describe("chooseEndpoint", () => {
  it.each<[string, Parameters<typeof chooseEndpoint>[1], unknown]>([
    [
      "auto: most secure mode and policy",
      { mode: "auto" },
      { mode: "SignAndEncrypt", policy: "Aes128_Sha256_RsaOaep" },
    ],
    ["sign", { mode: "sign" }, { mode: "Sign", policy: "Basic256Sha256" }],
    [
      "policy pinned",
      { mode: "auto", policy: "Basic256Sha256" },
      { mode: "SignAndEncrypt", policy: "Basic256Sha256" },
    ],
    ["none only when asked", { mode: "none" }, { mode: "None", policy: "None" }],
  ])("%s", (_n, wish, expected) => {
    expect(chooseEndpoint(offered, wish)).toEqual(expected);
  });

  it("never picks None or a deprecated policy on its own", () => {
    const r = chooseEndpoint([ep(1, "None"), ep(3, "Basic256"), ep(3, "Basic128Rsa15")], { mode: "auto" });
    expect(r).toMatchObject({
      error: expect.stringMatching(/no endpoint matches security auto.*deprecated/),
    });
    expect(chooseEndpoint([ep(3, "Basic256Sha256")], { mode: "none" })).toMatchObject({
      error: /no endpoint with security mode None/,
    });
  });
});
