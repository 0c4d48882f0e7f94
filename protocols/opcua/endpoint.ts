/**
 * Endpoint selection: the most secure endpoint a server offers, or the one a device asks for.
 * Deprecated policies (Basic128Rsa15, Basic256) are never chosen. Pure.
 */

/** Message security modes, as OPC UA numbers them. */
export const SecurityModeNumber = { None: 1, Sign: 2, SignAndEncrypt: 3 } as const;

/** A security mode name. */
export type SecurityModeName = keyof typeof SecurityModeNumber;

/** Security policies tagbridge accepts, strongest first. */
export const ACCEPTED_POLICIES = ["Aes256_Sha256_RsaPss", "Aes128_Sha256_RsaOaep", "Basic256Sha256"] as const;

/** An accepted security policy. */
export type PolicyName = (typeof ACCEPTED_POLICIES)[number] | "None";

/** The fields of an EndpointDescription that selection looks at. */
export interface EndpointInfo {
  securityMode: number;
  securityPolicyUri: string | null;
  securityLevel?: number;
}

/** What a device asks for: `auto` is the most secure endpoint offered. */
export interface SecurityWish {
  mode: "auto" | "none" | "sign" | "signAndEncrypt";
  /** Restricts the policy; otherwise the strongest offered. */
  policy?: Exclude<PolicyName, "None">;
}

/** A chosen endpoint's mode and policy names. */
export interface SecurityChoice {
  mode: SecurityModeName;
  policy: PolicyName;
}

/** The policy name at the end of a policy URI (`…#Basic256Sha256` → `Basic256Sha256`). */
export function policyName(uri: string | null | undefined): string {
  return (uri ?? "").split("#").pop() ?? "";
}

const MODE_OF_WISH = { none: "None", sign: "Sign", signAndEncrypt: "SignAndEncrypt" } as const;

/**
 * Picks the endpoint to use, or returns a reason when none fits. `none` is only ever chosen when
 * the wish is explicitly `none`; `auto` ranks SignAndEncrypt over Sign, then the strongest policy.
 */
export function chooseEndpoint(
  endpoints: readonly EndpointInfo[],
  wish: SecurityWish,
): SecurityChoice | { error: string } {
  if (wish.mode === "none") {
    return endpoints.some((e) => e.securityMode === SecurityModeNumber.None)
      ? { mode: "None", policy: "None" }
      : { error: "the server offers no endpoint with security mode None" };
  }
  const rank = (e: EndpointInfo) => {
    const p = ACCEPTED_POLICIES.indexOf(policyName(e.securityPolicyUri) as never);
    return p < 0 ? -1 : e.securityMode * 10 + (ACCEPTED_POLICIES.length - p);
  };
  const candidates = endpoints
    .filter((e) => e.securityMode !== SecurityModeNumber.None && rank(e) >= 0)
    .filter((e) => wish.mode === "auto" || e.securityMode === SecurityModeNumber[MODE_OF_WISH[wish.mode]])
    .filter((e) => !wish.policy || policyName(e.securityPolicyUri) === wish.policy)
    .sort((a, b) => rank(b) - rank(a));
  const best = candidates[0];
  if (!best) {
    const offered = endpoints.map((e) => `${modeName(e.securityMode)}/${policyName(e.securityPolicyUri)}`);
    return {
      error: `no endpoint matches security ${wish.mode}${wish.policy ? `/${wish.policy}` : ""} (offered: ${[...new Set(offered)].join(", ") || "none"}; deprecated policies are refused)`,
    };
  }
  return { mode: modeName(best.securityMode), policy: policyName(best.securityPolicyUri) as PolicyName };
}

function modeName(n: number): SecurityModeName {
  return n === 3 ? "SignAndEncrypt" : n === 2 ? "Sign" : "None";
}
