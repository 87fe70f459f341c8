import type { LoadedLab } from './lab-catalog.js';
import type { WorkspacePaths } from './paths.js';
import type { Clock, ComposeTool, ContainerEngine, DockerCli, Output, ProcessControl, Prompter } from './ports.js';
import type { Runtime, RuntimeKind } from './runtime.js';

/**
 * Makes the runtime of a lab's workspace. Passed in (src/cli/context.ts wires src/runtimes/create-runtime.ts)
 * so that the core, which opens sessions, never depends on the runtimes that implement its Runtime port.
 */
export type RuntimeFactory = (
  kind: RuntimeKind,
  lab: LoadedLab,
  paths: WorkspacePaths,
  ctx: CommandContext,
) => Promise<Runtime>;

/** Everything a command needs from the outside world, built once by the entry point (src/cli/context.ts). */
export interface CommandContext {
  home: string;
  io: Output;
  prompter: Prompter;
  clock: Clock;
  processes: ProcessControl;
  env: NodeJS.ProcessEnv;
  engine: ContainerEngine;
  /** The docker command line: builds, save/load, pull (what the engine API makes awkward). */
  docker: DockerCli;
  /** Detected once, on first use: probing runs two commands. */
  compose(): Promise<ComposeTool | undefined>;
  createRuntime: RuntimeFactory;
}
