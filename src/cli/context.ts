import { dockerCli } from '../adapters/docker-cli.js';
import { createDockerEngine } from '../adapters/docker-engine-api.js';
import { createPrompter } from '../adapters/inquirer-prompter.js';
import { nodeProcesses } from '../adapters/node-processes.js';
import { systemClock } from '../adapters/system-clock.js';
import type { CommandContext } from '../core/context.js';
import { labHome } from '../core/paths.js';
import type { ComposeTool } from '../core/ports.js';
import { terminalOutput } from './output.js';

/** The real outside world: terminal, prompts, clock, processes, Docker. Tests build their own (test/helpers). */
export function createContext(env: NodeJS.ProcessEnv = process.env): CommandContext {
  let compose: Promise<ComposeTool | undefined> | undefined;
  return {
    home: labHome(env),
    io: terminalOutput(env),
    prompter: createPrompter(env),
    clock: systemClock,
    processes: nodeProcesses,
    env,
    engine: createDockerEngine(env),
    docker: dockerCli,
    // compose-cli (and execa behind it) loads only for the commands that run compose.
    compose: () => (compose ??= import('../adapters/compose-cli.js').then((m) => m.detectCompose())),
    // The runtimes load only for the commands that open a lab.
    createRuntime: async (...args) => (await import('../runtimes/create-runtime.js')).createRuntime(...args),
  };
}
