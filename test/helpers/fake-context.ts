import { Chalk } from 'chalk';
import { nodeProcesses } from '../../src/adapters/node-processes.js';
import { systemClock } from '../../src/adapters/system-clock.js';
import type { CommandContext } from '../../src/cli/context.js';

/** A command context that records output and answers prompts from a script (or refuses, like a pipe). */
export function fakeContext(home: string, answers: boolean[] | undefined = undefined) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const ctx: CommandContext = {
    home,
    io: { color: new Chalk({ level: 0 }), tty: false, quiet: true, out: (t) => void stdout.push(t), err: (t) => void stderr.push(t) },
    prompter: {
      interactive: answers !== undefined,
      confirm: async () => answers?.shift() ?? false,
      select: async () => {
        throw new Error('no select in tests');
      },
    },
    clock: systemClock,
    processes: nodeProcesses,
    env: {},
    // No Docker engine in unit tests: the automatic runtime choice falls back to local.
    engine: {
      ping: async () => false,
      version: async () => ({ server: 'none', api: 'none' }),
      containers: async () => [],
      networks: async () => [],
      volumes: async () => [],
      logs: async () => '',
      image: async () => undefined,
    },
    compose: async () => undefined,
  };
  return { ctx, stdout, stderr };
}
