/**
 * The Workload API client against a real SPIRE server and agent (the images built here): the agent attests the
 * test process by its uid (unix attestor, host pid namespace) and the client receives a verifiable X.509-SVID.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoDir } from '../../src/core/paths.js';
import { imageSpec } from '../../src/images/catalog.js';
import { SvidSource } from '../../src/services/identity/svid-source.js';
import { WorkloadApiClient, type X509Svid } from '../../src/services/identity/workload-api-client.js';
import { scaled, waitFor } from '../helpers/timing.js';
import { announceSkip, dockerRequired, missingDockerPrerequisite } from '../helpers/docker-prerequisites.js';

const missing = await missingDockerPrerequisite(['spire-server', 'spire-agent']);
announceSkip('Workload API tests', missing);

const TD = 'lab.ai-infra-labs.dev';
const id = `wl-${process.pid}`;
const dir = mkdtempSync(path.join(tmpdir(), 'spire-wl-'));
const sockets = path.join(dir, 'sockets');
const SERVER_SOCKET = '/tmp/spire-server/private/api.sock';
const docker = (...args: string[]) => execa('docker', args, { all: true });
const server = (...args: string[]) =>
  docker('exec', `${id}-server`, '/opt/spire/bin/spire-server', ...args, '-socketPath', SERVER_SOCKET);

describe.skipIf(missing !== undefined && !dockerRequired)('SPIFFE Workload API client against SPIRE', () => {
  beforeAll(async () => {
    if (missing) throw new Error(`Docker prerequisites missing under CI: ${missing}`);
    mkdirSync(sockets, { recursive: true });
    await docker('network', 'create', '--label', 'dev.ai-infra-labs.owned=true', id);
    await docker(
      'run',
      '-d',
      '--name',
      `${id}-server`,
      '--network',
      id,
      '--network-alias',
      'spire-server',
      '--tmpfs',
      '/tmp:uid=1000',
      '-v',
      `${path.join(repoDir, 'test', 'fixtures', 'spire')}:/conf:ro`,
      imageSpec('spire-server').local,
      '-config',
      '/conf/server.conf',
    );
    await waitFor(
      'the SPIRE server to report healthy',
      async () => (await server('healthcheck').catch(() => undefined))?.exitCode === 0,
      { timeoutMs: 45_000, intervalMs: 200 },
    );
    writeFileSync(path.join(dir, 'bundle.pem'), String((await server('bundle', 'show')).stdout));
    const token = /Token: (\S+)/.exec(
      String((await server('token', 'generate', '-spiffeID', `spiffe://${TD}/node/test`)).stdout),
    )![1]!;
    await server(
      'entry',
      'create',
      '-parentID',
      `spiffe://${TD}/node/test`,
      '-spiffeID',
      `spiffe://${TD}/workload/test-runner`,
      '-selector',
      `unix:uid:${process.getuid!()}`,
      '-x509SVIDTTL',
      '20',
    );
    chmodSync(sockets, 0o755);
    await docker(
      'run',
      '-d',
      '--name',
      `${id}-agent`,
      '--network',
      id,
      '--pid',
      'host',
      '--tmpfs',
      '/tmp',
      '-v',
      `${path.join(repoDir, 'test', 'fixtures', 'spire')}:/conf:ro`,
      '-v',
      `${dir}:/bootstrap:ro`,
      '-v',
      `${sockets}:/run/spire/sockets`,
      imageSpec('spire-agent').local,
      '-config',
      '/conf/agent.conf',
      '-joinToken',
      token,
    );
  }, scaled(60_000));

  afterAll(async () => {
    await execa('docker', ['rm', '-f', `${id}-server`, `${id}-agent`], { reject: false });
    await execa('docker', ['network', 'rm', id], { reject: false });
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    "receives this process's X.509-SVID, chained to the trust bundle, with the SPIFFE ID as URI SAN",
    async () => {
      const client = new WorkloadApiClient(path.join(sockets, 'agent.sock'));
      try {
        const [svid] = await client.fetchX509(45_000);
        expect(svid!.spiffeId).toBe(`spiffe://${TD}/workload/test-runner`);
        const leaf = svid!.certificates[0]!;
        expect(leaf.subjectAltName).toBe(`URI:spiffe://${TD}/workload/test-runner`);
        const signer = [...svid!.certificates.slice(1), ...svid!.bundle].find(
          (ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey),
        );
        expect(signer, 'the leaf is signed by a CA of the chain or bundle').toBeDefined();
        expect(svid!.bundle.some((ca) => ca.ca)).toBe(true);
        expect(svid!.keyPem).toContain('BEGIN PRIVATE KEY');
      } finally {
        client.close();
      }
    },
    scaled(60_000),
  );

  it(
    'follows rotation: a renewed SVID arrives on the open stream, no reconnect or restart',
    async () => {
      // TTL 20 s: the agent renews past half-life, within its 5 s sync.
      const source = SvidSource.fromWorkloadApi(path.join(sockets, 'agent.sock'));
      try {
        const first = await source.ready(45_000);
        const rotated = await new Promise<X509Svid>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no rotated SVID within 40 s')), 40_000);
          source.onUpdate((svid) => {
            if (svid.certificates[0]!.serialNumber !== first.certificates[0]!.serialNumber) {
              clearTimeout(timer);
              resolve(svid);
            }
          });
        });
        expect(rotated.spiffeId).toBe(first.spiffeId);
        expect(new Date(rotated.certificates[0]!.validTo).getTime()).toBeGreaterThan(
          new Date(first.certificates[0]!.validTo).getTime(),
        );
        expect(source.current()).toBe(rotated);
      } finally {
        source.close();
      }
    },
    scaled(90_000),
  );

  it(
    'is refused without a registration entry for the caller (no identity issued)',
    async () => {
      const unregistered = await execa(
        'docker',
        [
          'run',
          '--rm',
          '--user',
          '4242',
          '-v',
          `${sockets}:/s`,
          '--pid',
          'host',
          '--entrypoint',
          '/opt/spire/bin/spire-agent',
          imageSpec('spire-agent').local,
          'api',
          'fetch',
          'x509',
          '-socketPath',
          '/s/agent.sock',
          '-timeout',
          '3s',
        ],
        { reject: false, all: true },
      );
      expect(unregistered.exitCode).not.toBe(0);
      expect(String(unregistered.all)).toMatch(/no identity issued|PermissionDenied/i);
    },
    scaled(30_000),
  );
});
