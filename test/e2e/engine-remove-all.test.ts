/**
 * The engine adapter's removeAll against a real Docker engine: what `lab stop` and `lab reset` use in place of
 * `compose down`. A container that ignores SIGTERM (sleep as pid 1), one already stopped, a network and a named
 * volume, all carrying one label, are gone afterwards; a bystander without the label is untouched.
 */
import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageSpec } from '../../src/images/catalog.js';
import { announceSkip, dockerRequired, engine, missingDockerPrerequisite } from '../helpers/docker-prerequisites.js';

const missing = await missingDockerPrerequisite(['debian']);
announceSkip('engine removeAll', missing);

const run = randomUUID().slice(0, 8);
const label = `dev.ai-infra-labs.test-remove=${run}`;
const bystander = `lab-test-bystander-${run}`;
const docker = (...args: string[]) => execa('docker', args);

describe.skipIf(missing !== undefined && !dockerRequired)('ContainerEngine.removeAll on a real engine', () => {
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
