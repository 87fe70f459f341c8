/**
 * Where lab 2 keeps what verifies its audit trail, for the writer's wiring, `lab audit --verify` and the checks:
 * - the trust roots: every root CA a run of this workspace used (.lab/secrets/audit-trust/*.pem, written by the
 *   lab's provisioning on the host; no container mounts it), so entries signed in an earlier run still verify;
 * - the anchor: the head the MCP server last recorded, in a volume only its container mounts (never on the
 *   host's filesystem), read through the engine (`exec cat`).
 */
import type { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileStamp } from '../../core/file-stamp.js';
import type { JobResult } from '../../core/lab-definition.js';
import { certificatesFromPem, type AuditAnchor } from './audit-signature.js';
import { verifyAudit, type VerifyOptions } from './audit-verify.js';

/** The service that writes (and signs) the audit trail, and where its container keeps the anchored head. */
const AUDIT_WRITER = 'mcp-server';
export const ANCHOR_FILE = '/var/lib/lab-audit/head.json';

/** Lab 2's audit log inside a workspace, wherever that workspace is seen from (the host, or a container's mount). */
export function auditLogIn(workspaceDir: string): string {
  return path.join(workspaceDir, '.lab', 'audit', 'audit.jsonl');
}

/**
 * A new attempt gets a new audit chain (lab 2's reset hook): the old log is kept beside it, never deleted.
 * Returns where it was kept, or undefined when there was no log.
 */
export function startNewAuditLog(workspaceDir: string, now: Date): string | undefined {
  const file = auditLogIn(workspaceDir);
  if (!existsSync(file)) return undefined;
  const kept = file.replace(/\.jsonl$/, `-${fileStamp(now)}.jsonl`);
  renameSync(file, kept);
  return kept;
}

export const auditTrustDir = (secretsDir: string) => path.join(secretsDir, 'audit-trust');

function loadTrustRoots(secretsDir: string): X509Certificate[] {
  const dir = auditTrustDir(secretsDir);
  if (!existsSync(dir)) return [];
  return certificatesFromPem(
    readdirSync(dir)
      .filter((f) => f.endsWith('.pem'))
      .map((f) => readFileSync(path.join(dir, f), 'utf8')),
  );
}

export type AnchorRead =
  | { status: 'found'; anchor: AuditAnchor }
  | { status: 'none' }
  | { status: 'unreachable'; why: string };

/** The anchored head, read in the writer's container. `none`: the writer has recorded nothing (this run). */
async function readAnchor(exec: (service: string, argv: string[]) => Promise<JobResult>): Promise<AnchorRead> {
  let result: JobResult;
  try {
    result = await exec(AUDIT_WRITER, ['cat', ANCHOR_FILE]);
  } catch (error) {
    return { status: 'unreachable', why: (error as Error).message.split('\n')[0]! };
  }
  if (result.exitCode !== 0)
    return /No such file/.test(result.output)
      ? { status: 'none' }
      : { status: 'unreachable', why: result.output.trim().slice(0, 200) };
  try {
    return { status: 'found', anchor: JSON.parse(result.output) as AuditAnchor };
  } catch {
    return { status: 'unreachable', why: `the anchored head is not JSON: ${result.output.trim().slice(0, 80)}` };
  }
}

export interface LabAuditVerdict extends ReturnType<typeof verifyAudit> {
  /** Whether the file was compared with the anchored head, and if not why. */
  anchor: { checked: true; seq: number } | { checked: false; why: string };
}

/**
 * The full verification of lab 2's trail: chain, signatures against the trust roots (the MCP server's SPIFFE
 * ID only), and the anchored head. For `lab audit --verify` and the checks alike.
 */
export async function verifyLabAudit(
  control: { secretsDir: string; exec(service: string, argv: string[]): Promise<JobResult> },
  file: string,
  signerId: string,
): Promise<LabAuditVerdict> {
  // The anchor first: the server may append between the two reads, so the file can only be ahead of it.
  const read = await readAnchor((service, argv) => control.exec(service, argv));
  const roots = loadTrustRoots(control.secretsDir);
  const options: VerifyOptions = {
    signatures: { roots, signerId },
    ...(read.status === 'found' ? { anchor: read.anchor } : {}),
  };
  const verdict = verifyAudit(file, options);
  if (roots.length === 0)
    verdict.problems.unshift({
      line: 0,
      message: `no trust roots in ${auditTrustDir(control.secretsDir)}: signatures cannot be checked (start the lab to provision them)`,
    });
  verdict.ok = verdict.problems.length === 0;
  const anchor: LabAuditVerdict['anchor'] =
    read.status === 'found'
      ? { checked: true, seq: read.anchor.seq }
      : {
          checked: false,
          why:
            read.status === 'none'
              ? 'the MCP server has recorded no head in this run yet'
              : `the MCP server's anchored head could not be read (${read.why})`,
        };
  return { ...verdict, anchor };
}
