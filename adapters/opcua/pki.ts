/**
 * The gateway's OPC UA PKI: one folder per gateway (in the adapter's shared directory) holding the
 * application certificate (`own/`), trusted server certificates (`trusted/certs/`) and rejected ones
 * (`rejected/`). node-opcua writes an unknown server certificate to `rejected/`; an admin moves it
 * to `trusted/` with `trustCertificate`. Plain file operations: node-opcua's certificate manager
 * watches the folders and picks changes up.
 */
import { X509Certificate } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
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
 * Trusts the certificate with `thumbprint`: moves it from the rejected list to the trusted one.
 * Resolves to the certificate; a trusted one stays as it is. Throws when neither list has it.
 */
export async function trustCertificate(dir: string, thumbprint: string): Promise<CertificateInfo> {
  const { trusted, rejected } = await listCertificates(dir);
  const already = trusted.find((c) => c.thumbprint === norm(thumbprint));
  if (already) return already;
  const cert = rejected.find((c) => c.thumbprint === norm(thumbprint));
  if (!cert) throw new Error(`no rejected certificate with thumbprint ${thumbprint}`);
  await mkdir(trustedDir(dir), { recursive: true });
  await rename(join(rejectedDir(dir), cert.file), join(trustedDir(dir), cert.file));
  return cert;
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
