import { Chalk } from 'chalk';
import { nodeProcesses } from '../../src/adapters/node-processes.js';
import { systemClock } from '../../src/adapters/system-clock.js';
import type { CommandContext } from '../../src/core/context.js';
import { createRuntime } from '../../src/runtimes/create-runtime.js';
import { fakeEngine } from './fake-engine.js';

/** A command context that records output and answers prompts from a script (or refuses, like a pipe). */
export function fakeContext(home: string, answers: boolean[] | undefined = undefined) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const ctx: CommandContext = {
    home,
    io: {
      color: new Chalk({ level: 0 }),
      tty: false,
      quiet: true,
      out: (t) => void stdout.push(t),
      err: (t) => void stderr.push(t),
      write: (t) => void stdout.push(t),
      closed: () => false,
    },
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
    engine: fakeEngine({ up: false }),
    docker: new Proxy({} as CommandContext['docker'], {
      get: (_, name) => () =>
        Promise.reject(new Error(`no docker command line in unit tests (docker ${String(name)})`)),
    }),
    compose: async () => undefined,
    createRuntime,
  };
  return { ctx, stdout, stderr };
}
