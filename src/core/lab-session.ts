/**
 * The active lab: which lab this home is running, where its workspace is, and its runtime. One lab is active
 * at a time per home; <home>/active.json says which.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { CommandContext } from '../cli/context.js';
import { createRuntime } from '../runtimes/create-runtime.js';
import type { Runtime, RuntimeKind } from '../runtimes/runtime.js';
import { writeJsonAtomic } from './atomic-file.js';
import { UsageError } from './errors.js';
import { loadLab, type LoadedLab } from './lab-catalog.js';
import { workspacePaths, type WorkspacePaths } from './paths.js';
import { StateStore } from './state-store.js';

export interface ActiveRecord {
  lab: string;
  runtime: RuntimeKind;
  since: string;
}

export interface LabSession {
  lab: LoadedLab;
  paths: WorkspacePaths;
  state: StateStore;
  runtime: Runtime;
  runtimeKind: RuntimeKind;
}

const activeFile = (home: string) => path.join(home, 'active.json');

export function readActive(home: string): ActiveRecord | undefined {
  const file = activeFile(home);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ActiveRecord;
  } catch {
    return undefined;
  }
}

export function writeActive(home: string, record: ActiveRecord): void {
  writeJsonAtomic(activeFile(home), record);
}

export function clearActive(home: string): void {
  rmSync(activeFile(home), { force: true });
}

export async function openSession(ctx: CommandContext, labId: string, runtimeKind: RuntimeKind): Promise<LabSession> {
  const lab = await loadLab(labId);
  const paths = workspacePaths(ctx.home, labId);
  return { lab, paths, state: new StateStore(paths.state), runtime: await createRuntime(runtimeKind, lab, paths, ctx), runtimeKind };
}

/** The session of the active lab, for every command but start, list, doctor and test. */
export async function openActiveSession(ctx: CommandContext): Promise<LabSession> {
  const active = readActive(ctx.home);
  if (!active) throw new UsageError('No lab is active.', 'Start one with `lab start <lab>` (see `lab list`).');
  return openSession(ctx, active.lab, active.runtime);
}
