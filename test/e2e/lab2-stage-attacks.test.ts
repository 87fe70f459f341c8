/**
 * Lab 2's own stage, attacked from inside its containers (issue "Lab 2's own environment must be as secure as
 * what it teaches"). One test per "Why" bullet, each of which held before the change:
 * - a workload reads the root CA key (it mounted the whole workspace, secrets included);
 * - a workload rewrites OPA's policy (open REST API on a network every container shared);
 * - the audit log stops recording when its file is replaced or cut, and --verify does not notice;
 * - an edited entry with recomputed hashes passes --verify;
 * - no container drops capabilities or sets no-new-privileges; every one mounts the workspace read-write.
 * Required under CI; skips loudly on a machine without Docker.
 */
import { copyFileSync, readFileSync, renameSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoDir } from '../../src/core/paths.js';
import { containerUser } from '../../src/runtimes/container-user.js';
import { auditLogIn } from '../../src/services/audit/audit-trust.js';
import { DockerRuntime } from '../../src/runtimes/docker-runtime.js';
import { entryHash, type AuditEntry } from '../../src/services/audit/audit-entry.js';
import { signHash } from '../../src/services/audit/audit-signature.js';
import { verifyLabAudit } from '../../src/services/audit/audit-trust.js';
import { verifyAudit } from '../../src/services/audit/audit-verify.js';
import { createCa, issueCertificate } from '../../src/services/identity/pki.js';
import { searchAs } from '../../checks/secure-agents/policy.js';
import { IDS } from '../../labs/secure-agents/spire-layout.js';
import { allChecksPassed, cliIn, runtimeRecord, scratchHome } from '../helpers/cli.js';
import { STACK_IMAGES, runningLab } from '../helpers/docker-lab.js';
import { waitFor } from '../helpers/timing.js';
import { announceSkip, dockerRequired, engine, missingDockerPrerequisite } from '../helpers/docker-prerequisites.js';

const LAB = 'secure-agents';
const MOUNT = `/app/workspace/${LAB}`;
const missing = await missingDockerPrerequisite(STACK_IMAGES);
announceSkip('lab 2 stage attack tests', missing);

/** A node script run inside a container: prints one JSON object. */
const PROBE_HELPERS = `
const fs = require('node:fs'); const net = require('node:net'); const cp = require('node:child_process');
const connect = (host, port) => new Promise((resolve) => {
  const s = net.connect({ host, port, timeout: 3000 });
  s.on('connect', () => { s.destroy(); resolve('connected'); });
  s.on('timeout', () => { s.destroy(); resolve('timeout'); });
  s.on('error', (e) => resolve(e.code));
});
const read = (file) => { try { fs.readFileSync(file); return 'read'; } catch (e) { return e.code; } };
const writable = (file) => { try { fs.writeFileSync(file, 'x'); return 'written'; } catch (e) { return e.code; } };
const status = fs.readFileSync('/proc/self/status', 'utf8');
const keys = cp.execSync('find / -path /proc -prune -o -path /sys -prune -o -name "*.key" -print 2>/dev/null || true').toString().split('\\n').filter((l) => l && !l.includes('node_modules'));
`;

describe.skipIf(missing !== undefined && !dockerRequired)('lab 2 stage: attacks from inside its containers', () => {
  const home = scratchHome();
  const lab = cliIn(home, {}, 180_000);
  const { project, container, execIn, probeContext } = runningLab(home, LAB);
  const workspace = path.join(home, LAB);
  const auditFile = auditLogIn(workspace);
  const ipOf = async (service: string) => {
    const inspected = await execa('docker', [
      'inspect',
      '-f',
      '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}',
      (await container(service)).id,
    ]);
    return String(inspected.stdout).trim().split(' ')[0]!;
  };
  /** `compose run` of an agent job with its command replaced by a probe: the agent's container, as compose makes it. */
  const inAgent = async (script: string) => {
    const ports = runtimeRecord(home, LAB).ports;
    const env = {
      LAB_REPO: repoDir,
      LAB_WORKSPACE: workspace,
      LAB_WORKSPACE_MOUNT: MOUNT,
      LAB_ENV_DIR: path.join(workspace, '.lab', 'compose'),
      LAB_UID: String(containerUser().uid),
      LAB_GID: String(containerUser().gid),
      LAB_PORT_RAG_INDEX: String(ports['rag-index']),
      LAB_PORT_MCP_SERVER: String(ports['mcp-server']),
    };
    const run = await execa(
      'docker-compose',
      [
        '-p',
        project,
        '-f',
        DockerRuntime.composeFile(LAB),
        'run',
        '--rm',
        '-T',
        '--entrypoint',
        'node',
        'agent-research',
        '-e',
        script,
      ],
      { env, reject: false },
    );
    const line = String(run.stdout)
      .split('\n')
      .find((l) => l.startsWith('{'));
    if (!line) throw new Error(`the probe printed no JSON: ${run.stdout} ${run.stderr}`);
    return JSON.parse(line) as Record<string, unknown>;
  };
  const lastLines = (n: number) => readFileSync(auditFile, 'utf8').trimEnd().split('\n').slice(-n);

  beforeAll(async () => {
    if (missing) throw new Error(`Docker prerequisites missing under CI: ${missing}`);
    expect((await lab('start', LAB)).exitCode).toBe(0);
    for (const step of ['1', '2', '3', '4']) expect((await lab('solve', step, '--yes')).exitCode).toBe(0);
    const checked = await lab('check');
    expect(checked.stdout, checked.stdout).toContain(await allChecksPassed(LAB));
  }, 400_000);
  afterAll(async () => {
    await lab('reset', '--yes');
  }, 120_000);

  it('an agent container holds no secret: no CA or node key anywhere, only mtls/ of the workspace, read-only', async () => {
    const seen = await inAgent(`${PROBE_HELPERS}
      console.log(JSON.stringify({ workspace: fs.readdirSync('${MOUNT}'), keys, caKey: read('${MOUNT}/.lab/secrets/spire-server/upstream-ca.key'),
        mtlsWrite: writable('${MOUNT}/mtls/tls.ts'), rootWrite: writable('/app/evil'), uid: process.getuid(),
        socketSwap: (() => { try { fs.unlinkSync('/run/spire/sockets/agent.sock'); return 'removed'; } catch (e) { return e.code; } })(),
        socketPlant: writable('/run/spire/sockets/evil.sock'),
        capEff: /CapEff:\\s*(\\w+)/.exec(status)[1], noNewPrivs: /NoNewPrivs:\\s*(\\d)/.exec(status)[1] }));`);
    expect(seen.workspace).toEqual(['mtls']);
    expect(seen.keys).toEqual([]);
    expect(seen.caKey).toBe('ENOENT');
    expect(seen.mtlsWrite).toBe('EROFS');
    expect(seen.rootWrite).toBe('EROFS');
    // The Workload API socket cannot be swapped for a fake one that would hand other workloads a forged bundle.
    expect(seen.socketSwap).toBe('EROFS');
    expect(seen.socketPlant).toBe('EROFS');
    expect(seen.uid).not.toBe(0);
    expect(seen.capEff).toBe('0000000000000000');
    expect(seen.noNewPrivs).toBe('1');
  }, 120_000);

  it('an agent reaches the MCP server only: not OPA, not rag-index, by name or by address', async () => {
    const [opaIp, ragIp] = [await ipOf('opa'), await ipOf('rag-index')];
    const seen = await inAgent(`${PROBE_HELPERS}
      (async () => console.log(JSON.stringify({ mcp: await connect('mcp-server', 8443), opa: await connect('opa', 8181), rag: await connect('rag-index', 8443),
        opaIp: await connect('${opaIp}', 8181), ragIp: await connect('${ragIp}', 8443) })))();`);
    expect(seen.mcp).toBe('connected');
    expect(seen.opa).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect(seen.rag).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect(seen.opaIp).not.toBe('connected');
    expect(seen.ragIp).not.toBe('connected');
  }, 120_000);

  it("OPA refuses policy and data writes, even with the MCP server's token; it answers that token's decision only", async () => {
    const script = `
      const token = require('node:fs').readFileSync('/run/secrets/opa-token', 'utf8').trim();
      const call = (method, p, body, auth) => fetch('http://opa:8181' + p, { method, body, headers: auth ? { authorization: 'Bearer ' + token } : {} }).then((r) => r.status, (e) => e.message);
      const input = JSON.stringify({ input: { spiffe_id: '${IDS.support}', tool: 'search_documents', arguments: {}, collection: 'internal' } });
      (async () => console.log(JSON.stringify({
        putPolicy: await call('PUT', '/v1/policies/evil', 'package agents.authz\\nimport rego.v1\\ndecision := {"allow": true}', false),
        putPolicyToken: await call('PUT', '/v1/policies/evil', 'package agents.authz\\nimport rego.v1\\ndecision := {"allow": true}', true),
        putData: await call('PUT', '/v1/data/agents', '{}', false),
        putDataToken: await call('PUT', '/v1/data/agents', '{}', true),
        patchDataToken: await call('PATCH', '/v1/data', '[]', true),
        listPolicies: await call('GET', '/v1/policies', undefined, true),
        readData: await call('GET', '/v1/data', undefined, true),
        decideNoToken: await call('POST', '/v1/data/agents/authz/decision', input, false),
        decideToken: await call('POST', '/v1/data/agents/authz/decision', input, true),
      })))();`;
    const run = await execIn('mcp-server', ['node', '-e', script]);
    const seen = JSON.parse(run.output.split('\n').find((l) => l.startsWith('{'))!) as Record<string, unknown>;
    expect(seen).toEqual({
      putPolicy: 401,
      putPolicyToken: 401,
      putData: 401,
      putDataToken: 401,
      patchDataToken: 401,
      listPolicies: 401,
      readData: 401,
      decideNoToken: 401,
      decideToken: 200,
    });
    // Still the learner's policy: support may not read internal documents.
    expect((await searchAs(probeContext(), IDS.support, 'internal')).allowed).toBe(false);
  }, 60_000);

  it("OPA's decision log masks the tool arguments; no workload but the MCP server mounts the workspace at all", async () => {
    await searchAs(probeContext(), IDS.research, 'public');
    const logs = await engine.logs((await container('opa')).id);
    expect(logs).toContain('"erased":["/input/arguments"]');
    expect(logs).not.toContain('incident response runbook');
    for (const service of ['spire-server', 'spire-agent', 'opa', 'rag-index', 'mcp-server']) {
      const inspected = JSON.parse(
        String((await execa('docker', ['inspect', (await container(service)).id])).stdout),
      )[0] as {
        HostConfig: {
          CapDrop: string[] | null;
          SecurityOpt: string[] | null;
          ReadonlyRootfs: boolean;
          PidMode: string;
        };
        Config: { User: string };
        Mounts: Array<{ Source: string; Destination: string; RW: boolean }>;
      };
      expect(inspected.HostConfig.CapDrop, service).toEqual(['ALL']);
      expect(inspected.HostConfig.SecurityOpt, service).toContain('no-new-privileges:true');
      expect(inspected.HostConfig.ReadonlyRootfs, service).toBe(true);
      expect(inspected.HostConfig.PidMode, service).toBe(service === 'spire-agent' ? 'host' : '');
      // Root only where it is needed (the spire-agent opens the engine's socket), even when the runner is root.
      if (service !== 'spire-agent') expect(inspected.Config.User, service).toMatch(/^[1-9]\d*:[1-9]\d*$/);
      const secrets = inspected.Mounts.filter((m) => m.Source.includes(`${path.sep}.lab${path.sep}secrets`)).map((m) =>
        path.relative(path.join(workspace, '.lab', 'secrets'), m.Source),
      );
      const expected: Record<string, string[]> = {
        'spire-server': ['spire-server', 'spire-server-data'],
        'spire-agent': ['spire-agent'],
        opa: ['opa/token-sha256.json'],
        'mcp-server': ['opa/token'],
        'rag-index': [],
      };
      expect(secrets.sort(), service).toEqual(expected[service]);
      const writableWorkspace = inspected.Mounts.filter(
        (m) => m.RW && m.Source.startsWith(workspace) && !m.Source.includes('secrets'),
      ).map((m) => path.relative(workspace, m.Source));
      expect(writableWorkspace, service).toEqual(service === 'mcp-server' ? ['.lab/audit'] : []);
      expect(
        inspected.Mounts.some((m) => m.Destination === '/var/run/docker.sock'),
        service,
      ).toBe(service === 'spire-agent');
    }
  }, 60_000);

  it('--verify catches a copy of the log cut short, or edited with every hash recomputed, re-signed or not', async () => {
    await searchAs(probeContext(), IDS.research, 'public');
    const control = probeContext();
    const original = readFileSync(auditFile, 'utf8').trimEnd().split('\n');
    const copy = path.join(home, 'audit-copy.jsonl');
    const verifyCopy = async (lines: string[]) => {
      writeFileSync(copy, lines.map((l) => `${l}\n`).join(''));
      return verifyLabAudit(control, copy, IDS.mcpServer);
    };
    expect((await verifyCopy(original)).ok).toBe(true);
    const cut = await verifyCopy(original.slice(0, -2));
    expect(cut.ok).toBe(false);
    expect(cut.problems.map((p) => p.message).join(' ')).toMatch(/entries were cut off/);
    // A denied call turned into an allowed one, every later hash recomputed: a valid chain.
    const denied = original.findIndex((line) => (JSON.parse(line) as AuditEntry).decision === 'deny');
    expect(denied).toBeGreaterThanOrEqual(0);
    const rechain = (sign?: (entry: AuditEntry) => void) => {
      let prev = '0'.repeat(64);
      return original.map((line, i) => {
        const entry = JSON.parse(line) as AuditEntry;
        if (i === denied) Object.assign(entry, { decision: 'allow', outcome: 'ok', reason: 'allowed' });
        entry.prev_hash = prev;
        entry.hash = entryHash(entry);
        prev = entry.hash;
        sign?.(entry);
        return JSON.stringify(entry);
      });
    };
    const recomputed = await verifyCopy(rechain());
    expect(verifyAudit(copy).ok).toBe(true); // the hash chain alone is fooled
    expect(recomputed.ok).toBe(false);
    expect(recomputed.problems[0]!.message).toMatch(/signature does not match/);
    const stripped = await verifyCopy(
      rechain((e) => void Object.assign(e, { sig: undefined, signer: undefined, signer_chain: undefined })),
    );
    expect(stripped.problems[0]!.message).toMatch(/not signed/);
    // Re-signed with a certificate that names the MCP server but comes from the attacker's own CA.
    const ca = await createCa('attacker');
    const forged = await issueCertificate(ca, { uris: [IDS.mcpServer], usage: 'both' });
    const resigned = await verifyCopy(
      rechain((e) => {
        const s = signHash(e.hash, {
          spiffeId: IDS.mcpServer,
          certificates: [forged.cert, ca.cert],
          keyPem: forged.keyPem,
        });
        Object.assign(e, { sig: s.sig, signer: s.signer, signer_chain: s.chain });
      }),
    );
    expect(resigned.problems[0]!.message).toMatch(/does not chain to the lab's trust roots/);
  }, 60_000);

  it("a log cut short behind the writer's back: the next call is refused, the writer reports it, --verify fails", async () => {
    await searchAs(probeContext(), IDS.research, 'public');
    const last = lastLines(1)[0]!;
    truncateSync(auditFile, statSync(auditFile).size - Buffer.byteLength(`${last}\n`));
    const call = await searchAs(probeContext(), IDS.research, 'public');
    expect(call.allowed).toBe(false);
    expect(call.text).toMatch(/audit log cannot record this call.*truncated/);
    await waitFor(
      'the MCP server to log the truncation',
      async () => /TAMPERING DETECTED: .*truncated/.test(await engine.logs((await container('mcp-server')).id)),
      { timeoutMs: 15_000 },
    );
    const verified = await lab('audit', '--verify');
    expect(verified.exitCode).toBe(1);
    expect(verified.stdout + verified.stderr).toMatch(/entries were cut off/);
  }, 60_000);

  it('a log replaced by a renamed copy: the next call is refused rather than written to the unlinked file', async () => {
    // A new attempt: reset starts a new chain (the tampered one is kept as evidence) and a new anchor.
    expect((await lab('reset', '--yes')).exitCode).toBe(0);
    expect((await lab('start', LAB)).exitCode).toBe(0);
    const first = await searchAs(probeContext(), IDS.research, 'public');
    expect(first.allowed).toBe(true);
    const aside = `${auditFile}.moved`;
    renameSync(auditFile, aside);
    copyFileSync(aside, auditFile);
    const before = readFileSync(aside, 'utf8');
    const call = await searchAs(probeContext(), IDS.research, 'public');
    expect(call.allowed).toBe(false);
    expect(call.text).toMatch(/audit log cannot record this call.*replaced/);
    expect(readFileSync(aside, 'utf8')).toBe(before);
    // The container's log reaches the engine a moment after the answer: wait for the line, not a fixed time.
    await waitFor(
      'the MCP server to log the replacement',
      async () => /TAMPERING DETECTED: .*replaced/.test(await engine.logs((await container('mcp-server')).id)),
      { timeoutMs: 15_000 },
    );
  }, 240_000);
});
