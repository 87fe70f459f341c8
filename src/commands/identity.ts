/**
 * `lab identity`: each lab 2 workload's X.509-SVID as the lab sees it. The servers' SVIDs are read from the
 * certificate they present on their published mTLS port (verified against the run's trust bundle, the checks'
 * own probe); the SPIRE agent's from `spire-server agent list`; the agents' (jobs) exist only while a job runs,
 * so their registration entries are shown instead. `lab status` uses the same probe to say "waiting for SVID".
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PeerCertificate } from 'node:tls';
import type { CommandContext } from '../core/context.js';
import type { LabSession } from '../core/lab-session.js';
import { printable } from '../core/printable.js';
import type { ServiceStatus } from '../core/runtime.js';
import { AGENT_ID, IDS, SERVER_SOCKET, SPIRE_SERVER } from '../../labs/secure-agents/spire-layout.js';
import { execIn, openLab2 } from './lab2-access.js';
import { defineCommand } from './define.js';

export interface PresentedSvid {
  service: string;
  spiffeId?: string;
  certificate?: PeerCertificate;
  /** Why there is none: the server is not serving TLS yet (no SVID), or the handshake failed. */
  problem?: string;
}

const bundleOf = (session: LabSession) =>
  readFileSync(path.join(session.paths.secrets, 'spire-agent', 'bundle.pem'), 'utf8');

/** The SVID each mTLS service presents now, or why it presents none. */
export async function presentedSvids(
  session: LabSession,
  services = session.lab.definition.services.filter((s) => s.tls).map((s) => s.name),
): Promise<PresentedSvid[]> {
  let bundle: string;
  try {
    bundle = bundleOf(session);
  } catch {
    return services.map((service) => ({
      service,
      problem: 'no trust bundle for this run yet (`npx lab start` makes one)',
    }));
  }
  return Promise.all(
    services.map(async (service) => {
      const endpoint = new URL(`https://127.0.0.1:${session.runtime.url(service).port}`);
      // The probe (undici, gRPC) loads when a workload is probed, not when `lab --help` lists this command.
      const { presentedIdentity } = await import('../../checks/lib/mtls-probe.js');
      const seen = await presentedIdentity(endpoint, bundle, AbortSignal.timeout(6_000));
      if (seen.id) return { service, spiffeId: seen.id, certificate: seen.certificate };
      const waiting = seen.error === 'ECONNRESET' || seen.error === 'ECONNREFUSED' || seen.error === 'timeout';
      return {
        service,
        problem: waiting
          ? 'waiting for SVID (not serving TLS yet)'
          : `presents no valid SVID (${seen.error ?? 'unknown'})`,
      };
    }),
  );
}

/** For `lab status`: an mTLS service that runs but holds no SVID yet is "waiting for SVID", not healthy. */
export async function markWaitingForSvid(session: LabSession, statuses: ServiceStatus[]): Promise<ServiceStatus[]> {
  const running = statuses.filter(
    (s) => s.state === 'running' && session.lab.definition.services.find((d) => d.name === s.name)?.tls,
  );
  if (running.length === 0) return statuses;
  const seen = new Map(
    (
      await presentedSvids(
        session,
        running.map((s) => s.name),
      )
    ).map((p) => [p.service, p]),
  );
  return statuses.map((s) => {
    const svid = seen.get(s.name);
    if (!svid) return s;
    return svid.spiffeId
      ? { ...s, detail: `${svid.spiffeId}${s.detail ? `  ${s.detail}` : ''}` }
      : { ...s, state: 'waiting', detail: svid.problem };
  });
}

/** SPIRE renews an X.509-SVID once half its lifetime has passed. */
export function rotationOf(validFrom: Date, validTo: Date, now: Date): { at: Date; inSeconds: number } {
  const at = new Date(validFrom.getTime() + (validTo.getTime() - validFrom.getTime()) / 2);
  return { at, inSeconds: Math.round((at.getTime() - now.getTime()) / 1000) };
}

export function duration(seconds: number): string {
  const s = Math.abs(seconds);
  const text =
    s >= 3600
      ? `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
      : s >= 60
        ? `${Math.floor(s / 60)} min ${s % 60} s`
        : `${s} s`;
  return seconds < 0 ? `${text} ago` : `in ${text}`;
}

const oneLine = (name: { [key: string]: string | string[] | undefined } | undefined) =>
  name
    ? Object.entries(name)
        .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
        .join(', ')
    : '?';

async function identityCommand(ctx: CommandContext): Promise<number> {
  const session = await openLab2(ctx, 'identity');
  const c = ctx.io.color;
  const now = ctx.clock.now();

  ctx.io.out(c.bold('SPIRE agent (node)'));
  const agents = await execIn(session, 'spire-server', [
    ...SPIRE_SERVER,
    'agent',
    'list',
    ...SERVER_SOCKET,
    '-output',
    'json',
  ]);
  const listed =
    agents.exitCode === 0
      ? ((
          JSON.parse(agents.output) as {
            agents?: Array<{
              id: { trust_domain: string; path: string };
              attestation_type?: string;
              x509svid_serial_number?: string;
              x509svid_expires_at?: string | number;
            }>;
          }
        ).agents ?? [])
      : [];
  if (listed.length === 0)
    ctx.io.out(
      `  none attested yet${agents.exitCode === 0 ? '' : ` (${printable(agents.output.trim().slice(0, 200))})`}: step 1 configures spire/agent.conf (\`npx lab logs spire-agent\`)`,
    );
  for (const a of listed) {
    const id = `spiffe://${a.id.trust_domain}${a.id.path}`;
    // Seconds since 1970; protobuf's JSON gives an int64 as a string.
    const seconds = Number(a.x509svid_expires_at);
    const expires = Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : undefined;
    ctx.io.out(`  ${id}${id === AGENT_ID ? '' : c.dim("  (not the lab's node)")}`);
    ctx.io.out(
      `    attested by ${a.attestation_type ?? '?'}; SVID serial ${a.x509svid_serial_number ?? '?'}${expires ? `, not after ${expires.toISOString()} (${duration(Math.round((expires.getTime() - now.getTime()) / 1000))})` : ''}`,
    );
  }

  ctx.io.out(c.bold('\nServers (the SVID each presents on its mTLS port)'));
  for (const svid of await presentedSvids(session)) {
    if (!svid.certificate || !svid.spiffeId) {
      ctx.io.out(`  ${svid.service.padEnd(12)} ${c.yellow(svid.problem ?? 'no SVID')}`);
      continue;
    }
    const cert = svid.certificate;
    const from = new Date(cert.valid_from);
    const to = new Date(cert.valid_to);
    const rotation = rotationOf(from, to, now);
    ctx.io.out(`  ${svid.service.padEnd(12)} ${c.green(svid.spiffeId)}`);
    ctx.io.out(`    issuer      ${printable(oneLine(cert.issuer as unknown as Record<string, string>))}`);
    ctx.io.out(`    serial      ${cert.serialNumber}`);
    ctx.io.out(
      `    not after   ${to.toISOString()} (${duration(Math.round((to.getTime() - now.getTime()) / 1000))}; valid since ${from.toISOString()})`,
    );
    ctx.io.out(
      `    rotation    ${rotation.inSeconds > 0 ? `${duration(rotation.inSeconds)} (${rotation.at.toISOString()}; SPIRE renews at half the lifetime)` : 'due now: the SPIRE agent renews it at half its lifetime'}`,
    );
  }

  ctx.io.out(c.bold('\nAgents (jobs: each run is issued its SVID by the Workload API; registered as)'));
  const { shownEntries } = await import('../../checks/secure-agents/registration.js');
  const entries = await shownEntries({
    exec: (service, argv, options) => execIn(session, service, argv, options),
  }).catch(() => []);
  const byId = new Map(entries.map((e) => [e.spiffe_id, e]));
  for (const [role, expected] of [
    ['research', IDS.research],
    ['support', IDS.support],
  ] as const) {
    const entry = byId.get(expected);
    ctx.io.out(
      `  agent-${role.padEnd(9)}${entry ? `${c.green(expected)}  ${c.dim(`entry ${entry.id}, selectors ${entry.selectors.map((s) => `${s.type}:${s.value}`).join(' ')}${entry.x509_svid_ttl ? `, SVID ttl ${entry.x509_svid_ttl} s` : ''}`)}` : c.yellow(`no entry for ${expected} yet (step 1: spire/entries.ts, or \`npx lab spire entry show\`)`)}`,
    );
  }
  ctx.io.out(
    c.dim('\nEvery registration entry: `npx lab spire entry show`. Each attestation: `npx lab logs spire-agent`.'),
  );
  return 0;
}

export const command = defineCommand({
  name: 'identity',
  description: "lab 2: each workload's SVID: SPIFFE ID, issuer, serial, expiry, rotation",
  run: (ctx) => identityCommand(ctx),
});
