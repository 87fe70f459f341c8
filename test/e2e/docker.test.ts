/**
 * The Docker compose runtime end to end, against a real engine and images built here. On a developer machine
 * without Docker this suite skips and says why; under CI (or LAB_DOCKER_TESTS=required) a missing engine,
 * compose or image is a failure.
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { imageSpec, OPA_VERSION, SPIRE_VERSION } from '../../src/images/catalog.js';
import { repoDir } from '../../src/core/paths.js';
import { composeProject } from '../../src/runtimes/docker-runtime.js';
import { cliIn, scratchHome } from '../helpers/cli.js';
import { scaled, waitFor } from '../helpers/timing.js';
import {
  announceSkip,
  composeLeftovers,
  dockerRequired,
  engine,
  missingDockerPrerequisite,
} from '../helpers/docker-prerequisites.js';
import { STACK_IMAGES } from '../helpers/docker-lab.js';

const LAB = 'mcp-integration';
const missing = await missingDockerPrerequisite(STACK_IMAGES);
announceSkip('Docker end-to-end tests', missing);

describe.skipIf(missing !== undefined && !dockerRequired)('lab on the Docker compose runtime', () => {
  const home = scratchHome();
  const lab = cliIn(home);
  const project = composeProject(LAB, home);

  beforeAll(() => {
    if (missing) throw new Error(`Docker prerequisites missing under CI: ${missing}`);
  });
  afterAll(async () => {
    await lab('reset', '--yes');
  });

  it(
    'passes the self-test under compose: every check fails before its step and passes after',
    async () => {
      // Lab 1's mutant catalogue runs on the local runtime (test/e2e/self-test.test.ts); under compose it would run in sequence.
      const result = await cliIn(scratchHome())('test', LAB, '--runtime', 'docker', '--no-mutants');
      expect(result.stdout).not.toContain('FAIL');
      expect(result.stdout).toContain('self-test passed');
      expect(result.exitCode).toBe(0);
    },
    scaled(300_000),
  );

  it(
    'starts by default on Docker, publishing every port on 127.0.0.1 only, and a second start duplicates nothing',
    async () => {
      const started = await lab('start', LAB);
      expect(started.exitCode, started.stderr).toBe(0);
      expect(started.stdout).toContain('on the docker runtime');
      const containers = await engine.containers(`com.docker.compose.project=${project}`);
      expect(containers.map((c) => c.service).sort()).toEqual([
        'auth-server',
        'mcp-server',
        'rag-index',
        'trace-receiver',
      ]);
      for (const c of containers) expect(c.labels['dev.ai-infra-labs.lab']).toBe(LAB);
      const ports = await execa('docker', [
        'ps',
        '--filter',
        `label=com.docker.compose.project=${project}`,
        '--format',
        '{{.Ports}}',
      ]);
      for (const line of String(ports.stdout).trim().split('\n')) expect(line).toMatch(/^127\.0\.0\.1:\d+->8080\/tcp$/);
      const again = await lab('start', LAB);
      expect(again.exitCode).toBe(0);
      expect((await engine.containers(`com.docker.compose.project=${project}`)).map((c) => c.id).sort()).toEqual(
        containers.map((c) => c.id).sort(),
      );
    },
    scaled(120_000),
  );

  it('says clearly when the Docker engine stops answering mid-lab (exit 2, no stack trace)', async () => {
    const gone = cliIn(home, { DOCKER_HOST: 'unix:///tmp/no-docker-here.sock' });
    for (const args of [['status'], ['check', '1']]) {
      const result = await gone(...args);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain('The Docker engine is not answering');
      expect(result.stderr).toContain('Fix:');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it(
    'runs the pinned SPIRE and OPA versions, and the SPIRE server works with its sqlite datastore',
    async () => {
      const version = async (image: string, args: string[], entrypoint?: string) =>
        String(
          (
            await execa(
              'docker',
              ['run', '--rm', '--network', 'none', ...(entrypoint ? ['--entrypoint', entrypoint] : []), image, ...args],
              { all: true },
            )
          ).all,
        ).trim();
      expect(await version(imageSpec('spire-server').local, ['--version'], '/opt/spire/bin/spire-server')).toBe(
        SPIRE_VERSION,
      );
      expect(await version(imageSpec('spire-agent').local, ['--version'], '/opt/spire/bin/spire-agent')).toBe(
        SPIRE_VERSION,
      );
      expect(await version(imageSpec('opa').local, ['version'])).toContain(`Version: ${OPA_VERSION}`);

      const name = `spire-smoke-${process.pid}`;
      const socket = '/tmp/spire-server/private/api.sock';
      await execa('docker', [
        'run',
        '-d',
        '--name',
        name,
        '--network',
        'none',
        '--tmpfs',
        '/tmp:uid=1000',
        '-v',
        `${path.join(repoDir, 'test', 'fixtures', 'spire')}:/conf:ro`,
        imageSpec('spire-server').local,
        '-config',
        '/conf/server.conf',
      ]);
      try {
        // The server's readiness signal is its own healthcheck command: wait for it, bounded by a scaled deadline.
        const healthy = await waitFor(
          'the SPIRE server to report healthy',
          async () => {
            const out = String(
              (
                await execa(
                  'docker',
                  ['exec', name, '/opt/spire/bin/spire-server', 'healthcheck', '-socketPath', socket],
                  { reject: false, all: true },
                )
              ).all,
            );
            return out.includes('Server is healthy.') ? out : undefined;
          },
          { timeoutMs: 45_000, intervalMs: 200 },
        );
        expect(healthy).toContain('Server is healthy.');
        const token = await execa('docker', [
          'exec',
          name,
          '/opt/spire/bin/spire-server',
          'token',
          'generate',
          '-socketPath',
          socket,
          '-spiffeID',
          'spiffe://lab.ai-infra-labs.dev/node',
        ]);
        expect(String(token.stdout)).toMatch(/^Token: [0-9a-f-]{36}$/m);
      } finally {
        await execa('docker', ['rm', '-f', name], { reject: false });
      }
    },
    scaled(60_000),
  );

  it(
    'resets to nothing: no container, network or volume of the lab is left',
    async () => {
      expect((await composeLeftovers(project)).length).toBeGreaterThan(0);
      const reset = await lab('reset', '--yes');
      expect(reset.exitCode, reset.stderr).toBe(0);
      expect(await composeLeftovers(project)).toEqual([]);
    },
    scaled(120_000),
  );

  it(
    'stops from the compose labels with every state file and the workspace deleted, and says so',
    async () => {
      const started = await cliIn(home, {}, scaled(300_000))('start', LAB);
      expect(started.exitCode, started.stderr).toBe(0);
      expect((await composeLeftovers(project)).length).toBeGreaterThan(0);
      rmSync(path.join(home, 'active.json'));
      rmSync(path.join(home, LAB), { recursive: true, force: true });
      const stopped = await lab('stop');
      expect(stopped.exitCode, stopped.stderr).toBe(0);
      expect(stopped.stdout).toContain(`Stopped ${LAB} on the docker runtime`);
      expect(stopped.stderr).not.toMatch(/\n\s+at /);
      expect(await composeLeftovers(project)).toEqual([]);
      expect(existsSync(path.join(home, LAB))).toBe(false);
    },
    scaled(420_000),
  );
});
