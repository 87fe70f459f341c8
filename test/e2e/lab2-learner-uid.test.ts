/**
 * Lab 2 as the people who take it run it: an ordinary user in the docker group, not root. The rest of the suite
 * runs as whoever runs it (root in CI), which hid that the spire-agent, root without capabilities, could not
 * read a non-root learner's 0600 node key in its 0700 folder: every such learner's lab 2 failed at step 1.
 * And when the runner is root, no container but the spire-agent may run as root either.
 * Run as root (CI): the CLI runs under setpriv as uid/gid 1000 with the engine socket's group. Run by a non-root
 * user, every other e2e test already is this case and this file skips, saying so.
 */
import { chownSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { repoDir } from '../../src/core/paths.js';
import { composeProject } from '../../src/runtimes/docker-runtime.js';
import { UNPRIVILEGED_ID } from '../../src/runtimes/container-user.js';
import { cliIn, scratchHome } from '../helpers/cli.js';
import {
  announceSkip,
  composeLeftovers,
  dockerRequired,
  missingDockerPrerequisite,
} from '../helpers/docker-prerequisites.js';
import { runningLab, STACK_IMAGES } from '../helpers/docker-lab.js';
import { scaled } from '../helpers/timing.js';

const LAB = 'secure-agents';
const LEARNER = 1000;
const isRoot = process.getuid?.() === 0;
const missing = await missingDockerPrerequisite(STACK_IMAGES);
announceSkip('lab 2 as a non-root learner', missing);
if (!isRoot)
  console.warn(
    '\n!!! lab 2 as a non-root learner: SKIPPED, this user is not root, so every other lab 2 e2e test already runs as a non-root learner.\n',
  );

/** The users every running container of the project runs as, by service. */
async function usersOf(home: string): Promise<Record<string, string>> {
  const containers = await runningLab(home, LAB).containers();
  const users: Record<string, string> = {};
  for (const c of containers)
    users[c.service] = String((await execa('docker', ['inspect', '-f', '{{.Config.User}}', c.id])).stdout).trim();
  return users;
}

describe.skipIf((missing !== undefined && !dockerRequired) || !isRoot)('lab 2 for a learner who is not root', () => {
  const socketGroup = statSync('/var/run/docker.sock').gid;
  const home = mkdtempSync(path.join(tmpdir(), 'lab-learner-'));
  chownSync(home, LEARNER, LEARNER);
  const asLearner = (...args: string[]) =>
    execa(
      'setpriv',
      [
        `--reuid=${LEARNER}`,
        `--regid=${LEARNER}`,
        `--groups=${socketGroup}`,
        'env',
        `HOME=${home}`,
        `LAB_HOME=${home}`,
        'NO_COLOR=1',
        `PATH=${process.env.PATH}`,
        process.execPath,
        path.join(repoDir, 'bin', 'lab.js'),
        ...args,
      ],
      {
        reject: false,
        stdin: 'ignore',
        timeout: scaled(240_000),
      },
    );

  afterAll(async () => {
    await asLearner('reset', '--yes');
    rmSync(home, { recursive: true, force: true });
  }, scaled(120_000));

  it(
    "attests, issues SVIDs and passes step 1 with the solution; its containers run as the learner, the spire-agent in the learner's group",
    async () => {
      if (missing) throw new Error(`Docker prerequisites missing under CI: ${missing}`);
      const started = await asLearner('start', LAB);
      expect(started.exitCode, String(started.stderr)).toBe(0);
      expect((await asLearner('solve', '1', '--yes')).exitCode).toBe(0);
      const checked = await asLearner('check', '1');
      expect(checked.stdout, String(checked.stdout)).toMatch(/4\/4 checks passed/);
      const users = await usersOf(home);
      expect(users['spire-agent']).toBe(`0:${LEARNER}`);
      for (const service of ['spire-server', 'opa', 'rag-index', 'mcp-server'])
        expect(users[service], service).toBe(`${LEARNER}:${LEARNER}`);
      // Every file the runner made stays the learner's.
      expect(statSync(path.join(home, LAB, '.lab', 'secrets', 'spire-agent', 'agent.key')).uid).toBe(LEARNER);
    },
    scaled(400_000),
  );

  it(
    'when the runner itself is root, no container but the spire-agent runs as root: they run as an unprivileged uid that owns the workspace',
    async () => {
      const rootHome = scratchHome();
      const lab = cliIn(rootHome);
      try {
        expect((await lab('start', LAB)).exitCode).toBe(0);
        const users = await usersOf(rootHome);
        expect(users['spire-agent']).toBe(`0:${UNPRIVILEGED_ID}`);
        for (const service of ['spire-server', 'opa', 'rag-index', 'mcp-server'])
          expect(users[service], service).toBe(`${UNPRIVILEGED_ID}:${UNPRIVILEGED_ID}`);
        expect(statSync(path.join(rootHome, LAB, '.lab', 'secrets', 'spire-server', 'upstream-ca.key')).uid).toBe(
          UNPRIVILEGED_ID,
        );
      } finally {
        expect((await lab('reset', '--yes')).exitCode).toBe(0);
        expect(await composeLeftovers(composeProject(LAB, rootHome))).toEqual([]);
      }
    },
    scaled(400_000),
  );
});
