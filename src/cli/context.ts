import { createDockerodeEngine } from '../adapters/dockerode-engine.js';
import { createPrompter } from '../adapters/inquirer-prompter.js';
import { nodeProcesses } from '../adapters/node-processes.js';
import { systemClock } from '../adapters/system-clock.js';
import { labHome } from '../core/paths.js';
import type { Clock, ComposeTool, ContainerEngine, ProcessControl, Prompter } from '../core/ports.js';
import { terminalOutput, type Output } from './output.js';

/** Everything a command needs from the outside world, built once by the entry point. */
export interface CommandContext {
  home: string;
  io: Output;
  prompter: Prompter;
  clock: Clock;
  processes: ProcessControl;
  env: NodeJS.ProcessEnv;
  engine: ContainerEngine;
  /** Detected once, on first use: probing runs two commands. */
  compose(): Promise<ComposeTool | undefined>;
}

export function createContext(env: NodeJS.ProcessEnv = process.env): CommandContext {
  let compose: Promise<ComposeTool | undefined> | undefined;
  return {
    home: labHome(env),
    io: terminalOutput(env),
    prompter: createPrompter(env),
    clock: systemClock,
    processes: nodeProcesses,
    env,
    engine: createDockerodeEngine(),
    // compose-cli (and execa behind it) loads only for the commands that run compose.
    compose: () => (compose ??= import('../adapters/compose-cli.js').then((m) => m.detectCompose())),
  };
}
