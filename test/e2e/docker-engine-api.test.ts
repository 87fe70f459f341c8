/**
 * The Docker Engine API adapter against a real engine: exec with and without stdin (exit codes, both streams,
 * a deadline), logs, image labels, and removeAll, what `lab stop` and `lab reset` use in place of
 * `compose down`: a container that ignores SIGTERM (sleep as pid 1), one already stopped, a network and a
 * named volume, all carrying one label, are gone afterwards; a bystander without the label is untouched.
 */
import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageSpec } from '../../src/images/catalog.js';
import { announceSkip, dockerRequired, engine, missingDockerPrerequisite } from '../helpers/docker-prerequisites.js';

const missing = await missingDockerPrerequisite(['debian']);
announceSkip('Docker Engine API adapter', missing);

const run = randomUUID().slice(0, 8);
const label = `dev.ai-infra-labs.test-remove=${run}`;
const bystander = `lab-test-bystander-${run}`;
const docker = (...args: string[]) => execa('docker', args);

describe.skipIf(missing !== undefined && !dockerRequired)('the Docker Engine API adapter on a real engine', () => {
  beforeAll(async () => {
    if (missing) throw new Error(`Docker prerequisites missing under CI: ${missing}`);
    const image = imageSpec('debian').local;
    await docker('network', 'create', '--label', label, `lab-test-net-${run}`);
    await docker('volume', 'create', '--label', label, `lab-test-vol-${run}`);
    for (const name of ['a', 'b'])
      await docker(
        'run',
        '-d',
        '--label',
        label,
        '--name',
        `lab-test-${name}-${run}`,
        '--network',
        `lab-test-net-${run}`,
        '-v',
        `lab-test-vol-${run}:/data`,
        image,
        'sleep',
        'infinity',
      );
    await docker('stop', '-t', '0', `lab-test-b-${run}`);
    await docker('run', '-d', '--name', bystander, image, 'sleep', 'infinity');
  }, 60_000);
  afterAll(async () => {
    await docker('rm', '-f', bystander).catch(() => undefined);
  });

  const bystanderId = async () => (await execa('docker', ['inspect', '-f', '{{.Id}}', bystander])).stdout.trim();

  it('runs a command in a container: exit code, stdout and stderr, stdin when given', async () => {
    const id = await bystanderId();
    const both = await engine.exec(id, ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(both.exitCode).toBe(3);
    expect(both.output).toContain('out\n');
    expect(both.output).toContain('err\n');
    const input = `${'line of input\n'.repeat(5_000)}end`;
    expect(await engine.exec(id, ['cat'], { input })).toEqual({ exitCode: 0, output: input });
    await expect(engine.exec(id, ['sleep', '10'], { timeoutMs: 500 })).rejects.toThrow(
      /sleep did not finish within 0.5 s/,
    );
  }, 60_000);

  it('reads logs and image labels; anything that is not an image reference is no image', async () => {
    await docker('exec', bystander, 'true');
    const logged = `lab-test-logged-${run}`;
    await docker('run', '--name', logged, imageSpec('debian').local, 'sh', '-c', 'echo to-stdout; echo to-stderr >&2');
    try {
      const id = (await execa('docker', ['inspect', '-f', '{{.Id}}', logged])).stdout.trim();
      // Both streams, each line whole (Docker keeps stdout and stderr apart, so their order is not fixed).
      expect((await engine.logs(id)).split('\n').sort()).toEqual(['', 'to-stderr', 'to-stdout']);
    } finally {
      await docker('rm', '-f', logged);
    }
    expect(await engine.image(imageSpec('debian').local)).toBeTypeOf('object');
    expect(await engine.image('ai-infra-labs/no-such-image:0')).toBeUndefined();
    for (const hostile of ['../containers/json?all=1#', 'x/../../version', ''])
      expect(await engine.image(hostile)).toBeUndefined();
  }, 60_000);

  it('stops and removes every labelled container, network and volume, and nothing else', async () => {
    expect(await engine.containers(label)).toHaveLength(2);
    expect(await engine.removeAll(label, { stopSeconds: 1 })).toEqual([]);
    expect(await engine.containers(label)).toEqual([]);
    expect(await engine.networks(label)).toEqual([]);
    expect(await engine.volumes(label)).toEqual([]);
    expect((await docker('inspect', '-f', '{{.State.Running}}', bystander)).stdout.trim()).toBe('true');
    // Nothing left is no error either: a second run (or a concurrent one) finds nothing to refuse.
    expect(await engine.removeAll(label, { stopSeconds: 1 })).toEqual([]);
  }, 60_000);
});
