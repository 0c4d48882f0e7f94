/**
 * Trust is decided per device. The shared lists (pki.ts) hold what an admin trusted for every
 * device; a device with `acceptServerCertificate: true` also accepts, for itself only, whatever
 * certificate its server shows, and records it in its own data directory (`accepted/`), never in the
 * shared lists, so a strict device on the same server stays refused.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { rejectCertificate, thumbprintOf, toPem, trustState } from "./pki.js";

/** The verdict on a server certificate, with its thumbprint for messages. */
export interface TrustVerdict {
  trusted: boolean;
  thumbprint: string;
}

/** Decides on one server certificate (DER, the first of its chain). */
export type TrustCheck = (der: Buffer) => Promise<TrustVerdict>;

/** The text a device's state reason and errors carry for a refused server certificate. */
export const untrustedReason = (thumbprint: string): string =>
  `BadCertificateUntrusted: server certificate ${thumbprint} is not trusted (trust it with PUT /api/v1/opcua/certificates/${thumbprint}/trust)`;

/**
 * The certificate check of one device: trusted when the shared list trusts it; otherwise accepted
 * when `accept` (recorded under `deviceDir/accepted/`, logged once per certificate), else put into
 * the shared rejected list (when no list knows it yet) and refused.
 */
export function deviceTrust(options: {
  pkiDir: string;
  deviceDir: string;
  accept: boolean;
  log: Logger;
}): TrustCheck {
  const seen = new Set<string>();
  return async (der) => {
    const thumbprint = thumbprintOf(der);
    if ((await trustState(options.pkiDir, thumbprint)) === "trusted") return { trusted: true, thumbprint };
    if (!options.accept) {
      await rejectCertificate(options.pkiDir, der);
      return { trusted: false, thumbprint };
    }
    if (!seen.has(thumbprint)) {
      seen.add(thumbprint);
      const dir = join(options.deviceDir, "accepted");
      await mkdir(dir, { recursive: true });
      const tmp = join(dir, `.${thumbprint}.pem.tmp`);
      await writeFile(tmp, toPem(der));
      await rename(tmp, join(dir, `${thumbprint}.pem`));
      options.log.info(
        { thumbprint, recordedIn: dir },
        "acceptServerCertificate: accepting this server certificate for this device only",
      );
    }
    return { trusted: true, thumbprint };
  };
}
