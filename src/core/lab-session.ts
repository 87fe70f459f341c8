/**
 * The active lab: which lab this home is running, where its workspace is, and its runtime. One lab is active
 * at a time per home; <home>/active.json says which.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { CommandContext } from './context.js';
import type { Runtime, RuntimeKind } from './runtime.js';
import { writeJsonAtomic } from './atomic-file.js';
import { UsageError } from './errors.js';
import { readJson, setAside } from './json-record.js';
import { listLabIds, loadLab, type LoadedLab } from './lab-catalog.js';
import { workspacePaths, type WorkspacePaths } from './paths.js';
import { DEFAULT_LOCK_TIMEOUT_S, withLock } from './lock.js';
import { StateStore } from './state-store.js';

// lab becomes a path (workspacePaths): only a lab of the catalog is accepted, never "../../etc".
const activeSchema = z.object({
  lab: z.string().refine((id) => listLabIds().includes(id), 'is not a lab of this course'),
  runtime: z.enum(['local', 'docker']),
  since: z.string(),
});

export type ActiveRecord = z.infer<typeof activeSchema>;

export interface LabSession {
  lab: LoadedLab;
  paths: WorkspacePaths;
  state: StateStore;
  runtime: Runtime;
  runtimeKind: RuntimeKind;
}

const activeFile = (home: string) => path.join(home, 'active.json');

/**
 * The active record, if valid. A bad one (unreadable, wrong-typed, a lab that does not exist) counts as no
 * active lab; given a notice, it is also set aside as active.json.corrupt-<time> and reported.
 */
export function readActive(
  home: string,
  notice?: { now: Date; report: (message: string) => void },
): ActiveRecord | undefined {
  const file = activeFile(home);
  const result = readJson(file, activeSchema);
  if (result.status === 'ok') return result.value;
  if (result.status === 'corrupt' && notice) {
    const moved = setAside(file, notice.now);
    if (moved) notice.report(`The active-lab record ${file} was unusable (${result.reason}); kept it as ${moved}.`);
  }
  return undefined;
}

/** readActive for the commands that act on the lab: a bad record is set aside with a message on stderr. */
export function readActiveOrSetAside(ctx: Pick<CommandContext, 'home' | 'clock' | 'io'>): ActiveRecord | undefined {
  return readActive(ctx.home, { now: ctx.clock.now(), report: (message) => ctx.io.err(ctx.io.color.yellow(message)) });
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
  return {
    lab,
    paths,
    state: new StateStore(paths.state, { id: labId, steps: lab.definition.steps.length }),
    runtime: await ctx.createRuntime(runtimeKind, lab, paths, ctx),
    runtimeKind,
  };
}

/** The session of the active lab, for every command but start, list, doctor and test. */
export async function openActiveSession(ctx: CommandContext): Promise<LabSession> {
  const active = readActiveOrSetAside(ctx);
  if (!active) throw new UsageError('No lab is active.', 'Start one with `lab start <lab>` (see `lab list`).');
  return openSession(ctx, active.lab, active.runtime);
}

/**
 * Runs a state-changing command under the home's lock (lock.ts). A second command waits, saying for what, up
 * to LAB_LOCK_TIMEOUT seconds (default 300), then ends with exit 2.
 */
export function withHomeLock<T>(
  ctx: Pick<CommandContext, 'home' | 'clock' | 'io' | 'env' | 'processes'>,
  command: string,
  fn: () => Promise<T>,
): Promise<T> {
  const seconds = Number(ctx.env.LAB_LOCK_TIMEOUT);
  const timeoutMs =
    (Number.isFinite(seconds) &&
    seconds >= 0 &&
    ctx.env.LAB_LOCK_TIMEOUT !== '' &&
    ctx.env.LAB_LOCK_TIMEOUT !== undefined
      ? seconds
      : DEFAULT_LOCK_TIMEOUT_S) * 1000;
  return withLock(
    {
      home: ctx.home,
      processes: ctx.processes,
      clock: ctx.clock,
      timeoutMs,
      waiting: (message) => ctx.io.err(ctx.io.color.dim(message)),
    },
    command,
    fn,
  );
}
