import { Chalk } from 'chalk';
import { nodeProcesses } from '../../src/adapters/node-processes.js';
import { systemClock } from '../../src/adapters/system-clock.js';
import type { CommandContext } from '../../src/core/context.js';
import { createRuntime } from '../../src/runtimes/create-runtime.js';
import { fakeEngine } from './fake-engine.js';

/** A question the fake prompter was asked: its choices and where the cursor started. */
export interface AskedSelect {
  message: string;
  choices: string[];
  initial: string | undefined;
}

/**
 * A command context that records output and answers prompts from a script (or refuses, like a pipe): `answers`
 * for confirmations, `selections` for menus (each must be one of the choices offered, or the test fails).
 */
export function fakeContext(
  home: string,
  answers: boolean[] | undefined = undefined,
  selections: string[] | undefined = undefined,
) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const asked: AskedSelect[] = [];
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
      interactive: answers !== undefined || selections !== undefined,
      confirm: async () => answers?.shift() ?? false,
      select: async <T extends string>(message: string, choices: Array<{ value: T }>, initial?: T) => {
        asked.push({ message, choices: choices.map((c) => c.value), initial });
        const answer = selections?.shift();
        if (answer === undefined) throw new Error(`unexpected question: ${message}`);
        const chosen = choices.find((c) => c.value === answer);
        if (!chosen) throw new Error(`"${answer}" is not offered by "${message}" (${choices.map((c) => c.value)})`);
        return chosen.value;
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
  return { ctx, stdout, stderr, asked };
}
