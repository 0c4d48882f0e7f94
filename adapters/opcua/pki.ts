/**
 * The gateway's OPC UA PKI: one folder per gateway (in the adapter's shared directory) holding the
 * application certificate (`own/`), trusted server certificates (`trusted/certs/`) and rejected ones
 * (`rejected/`). A strict device puts an unknown server certificate into `rejected/`; an admin moves
 * it to `trusted/` with `trustCertificate`. These lists change only here (the API's certificate
 * store) or by hand: a device with `acceptServerCertificate` never writes to them. Plain file
 * operations, read anew at every check, so a change counts at the next connection attempt.
 */
import { createHash, X509Certificate } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** One certificate in a trust list. */
export interface CertificateInfo {
  /** SHA-1 thumbprint, lowercase hex: the id to trust or remove it by. */
  thumbprint: string;
  subject: string;
  issuer: string;
  /** Expiry, ISO 8601. */
  validTo: string;
  /** File name inside its folder. */
  file: string;
}

/** Both trust lists. */
export interface CertificateLists {
  trusted: CertificateInfo[];
  rejected: CertificateInfo[];
}

/** The PKI folder inside an adapter's shared directory. */
export function pkiFolder(sharedDir: string): string {
  return join(sharedDir, "pki");
}

const trustedDir = (dir: string) => join(dir, "trusted", "certs");
const rejectedDir = (dir: string) => join(dir, "rejected");

async function readCerts(folder: string): Promise<CertificateInfo[]> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const out: CertificateInfo[] = [];
  for (const file of names.filter((n) => /\.(pem|der|crt)$/i.test(n)).sort()) {
    try {
      const cert = new X509Certificate(await readFile(join(folder, file)));
      out.push({
        thumbprint: cert.fingerprint.replaceAll(":", "").toLowerCase(),
        subject: cert.subject.replaceAll("\n", ", "),
        issuer: cert.issuer.replaceAll("\n", ", "),
        validTo: new Date(cert.validTo).toISOString(),
        file,
      });
    } catch {
      // Not a certificate (or unreadable): not part of a trust list.
    }
  }
  return out;
}

/** Lists the trusted and the rejected server certificates of the PKI folder `dir`. */
export async function listCertificates(dir: string): Promise<CertificateLists> {
  return { trusted: await readCerts(trustedDir(dir)), rejected: await readCerts(rejectedDir(dir)) };
}

const norm = (thumbprint: string) => thumbprint.replaceAll(":", "").toLowerCase();

/**
 * Trusts the certificate with `thumbprint`: writes it to the trusted list (a fresh file, so its time
 * is the admin's latest action) and removes it from the rejected list. Idempotent: a trusted one
 * stays trusted, and a certificate found in both lists ends up only in the trusted one.
 * Throws when neither list has it.
 */
export async function trustCertificate(dir: string, thumbprint: string): Promise<CertificateInfo> {
  const { trusted, rejected } = await listCertificates(dir);
  const already = trusted.find((c) => c.thumbprint === norm(thumbprint));
  const pending = rejected.filter((c) => c.thumbprint === norm(thumbprint));
  const cert = already ?? pending[0];
  if (!cert) throw new Error(`no rejected certificate with thumbprint ${thumbprint}`);
  if (!already) {
    await mkdir(trustedDir(dir), { recursive: true });
    const body = await readFile(join(rejectedDir(dir), cert.file));
    const tmp = join(trustedDir(dir), `.${cert.file}.tmp`);
    await writeFile(tmp, body);
    await rename(tmp, join(trustedDir(dir), cert.file));
  }
  for (const r of pending) await rm(join(rejectedDir(dir), r.file), { force: true });
  return cert;
}

/** Where a certificate stands in the shared lists. */
export type TrustState = "trusted" | "rejected" | "unknown";

/**
 * The shared lists' verdict on `thumbprint`, read from the files now (no cache to lag behind an
 * admin's change). A certificate in both lists (copied there by hand, or left by an older version)
 * goes by the newer file: the admin's last action.
 */
export async function trustState(dir: string, thumbprint: string): Promise<TrustState> {
  const newest = async (folder: string) => {
    let latest: number | undefined;
    for (const c of (await readCerts(folder)).filter((x) => x.thumbprint === norm(thumbprint))) {
      const t = (await stat(join(folder, c.file)).catch(() => undefined))?.mtimeMs;
      if (t !== undefined && (latest === undefined || t > latest)) latest = t;
    }
    return latest;
  };
  // Rejected first: trusting writes the trusted file before it removes the rejected one, so a
  // rejected file gone by now means the trusted one is seen below (no false "unknown" in between).
  const r = await newest(rejectedDir(dir));
  const t = await newest(trustedDir(dir));
  if (t === undefined) return r === undefined ? "unknown" : "rejected";
  return r !== undefined && r > t ? "rejected" : "trusted";
}

/** A DER certificate as PEM text. */
export const toPem = (der: Buffer): string =>
  `-----BEGIN CERTIFICATE-----\n${der
    .toString("base64")
    .replace(/(.{64})/g, "$1\n")
    .replace(/\n?$/, "\n")}-----END CERTIFICATE-----\n`;

/** SHA-1 thumbprint of a DER certificate, lowercase hex (as in the lists). */
export const thumbprintOf = (der: Buffer): string => createHash("sha1").update(der).digest("hex");

/**
 * Puts a certificate no list knows yet into the rejected list, where it waits for an admin. A
 * certificate either list already holds is left alone: rejecting never overrides an admin's trust.
 */
export async function rejectCertificate(dir: string, der: Buffer): Promise<void> {
  const thumbprint = thumbprintOf(der);
  if ((await trustState(dir, thumbprint)) !== "unknown") return;
  await mkdir(rejectedDir(dir), { recursive: true });
  const file = join(rejectedDir(dir), `${thumbprint}.pem`);
  const tmp = join(rejectedDir(dir), `.${thumbprint}.pem.tmp`);
  await writeFile(tmp, toPem(der));
  await rename(tmp, file);
}

/** Removes the certificate with `thumbprint` from whichever list holds it; false when none did. */
export async function removeCertificate(dir: string, thumbprint: string): Promise<boolean> {
  const { trusted, rejected } = await listCertificates(dir);
  const t = trusted.find((c) => c.thumbprint === norm(thumbprint));
  const r = rejected.find((c) => c.thumbprint === norm(thumbprint));
  if (t) await rm(join(trustedDir(dir), t.file));
  if (r) await rm(join(rejectedDir(dir), r.file));
  return Boolean(t || r);
}
