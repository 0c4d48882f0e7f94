/**
 * API tokens: random bearer secrets, kept only as SHA-256 hashes (they carry 256 bits of entropy,
 * so a slow password hash buys nothing), each with a name and a role. The file is written 0600.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Roles in increasing power; each includes the ones before it. */
export const ROLES = ["viewer", "operator", "admin"] as const;
/** A token's role. */
export type Role = (typeof ROLES)[number];

/** Who made a request. */
export interface Principal {
  name: string;
  role: Role;
}

/** A token as stored and listed: never the secret itself. */
export interface TokenRecord extends Principal {
  hash: string;
  createdAt: string;
}

const hash = (token: string) => createHash("sha256").update(token).digest("hex");

/** True when `role` is at least `needed`. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** Token records, in memory and optionally in a file. */
export class TokenStore {
  private records: TokenRecord[];
  private readonly removedListeners = new Set<(name: string) => void>();

  private constructor(
    private readonly file: string | undefined,
    records: TokenRecord[],
  ) {
    this.records = records;
  }

  /** Opens (or starts) the token file. */
  static open(file: string): TokenStore {
    const records = existsSync(file)
      ? (JSON.parse(readFileSync(file, "utf8")) as { tokens: TokenRecord[] }).tokens
      : [];
    return new TokenStore(file, records);
  }

  /** A store that lives in memory only (tests, embedding). */
  static memory(): TokenStore {
    return new TokenStore(undefined, []);
  }

  list(): Omit<TokenRecord, "hash">[] {
    return this.records.map(({ name, role, createdAt }) => ({ name, role, createdAt }));
  }

  /** Creates a token and returns its secret, which is not kept. Names are unique. */
  create(name: string, role: Role, now = new Date()): string {
    if (this.records.some((r) => r.name === name)) throw new Error(`a token named '${name}' exists`);
    const token = `tb_${randomBytes(32).toString("base64url")}`;
    this.records.push({ name, role, hash: hash(token), createdAt: now.toISOString() });
    this.save();
    return token;
  }

  /** Deletes a token; false when there was none of that name. */
  remove(name: string): boolean {
    const before = this.records.length;
    this.records = this.records.filter((r) => r.name !== name);
    if (this.records.length === before) return false;
    this.save();
    for (const listener of this.removedListeners) listener(name);
    return true;
  }

  /** Calls `listener` with the name of every token removed from now on; returns the unsubscribe. */
  onRemoved(listener: (name: string) => void): () => void {
    this.removedListeners.add(listener);
    return () => {
      this.removedListeners.delete(listener);
    };
  }

  /** The principal a presented secret belongs to, if any. Constant-time per comparison. */
  verify(token: string): Principal | undefined {
    const presented = Buffer.from(hash(token), "hex");
    for (const r of this.records) {
      if (timingSafeEqual(presented, Buffer.from(r.hash, "hex"))) return { name: r.name, role: r.role };
    }
    return undefined;
  }

  get size(): number {
    return this.records.length;
  }

  private save(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ tokens: this.records }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}

/**
 * On first start (no token at all) creates an `admin` token and writes its secret to a 0600 file
 * in the data directory; returns that file's path, or undefined when tokens already existed.
 */
export function ensureAdminToken(store: TokenStore, dataDir: string): string | undefined {
  if (store.size > 0) return undefined;
  const file = join(dataDir, "admin-token");
  const token = store.create("admin", "admin");
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return file;
}
