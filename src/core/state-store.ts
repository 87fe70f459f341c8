/**
 * Learner progress per workspace: current step, hints seen, every check run with its time, and events such as
 * solves and resets. Written atomically; read-modify-write happens under the workspace lock (see lock.ts), so
 * concurrent commands lose no record. A file that does not pass its schema (or names a step the lab does not
 * have) is reported, never silently replaced: `lab reset` sets it aside (json-record.ts).
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { writeJsonAtomic } from './atomic-file.js';
import { EnvironmentError } from './errors.js';
import { readJson, setAside } from './json-record.js';

const checkRunSchema = z.object({
  at: z.string(),
  scope: z.string(),
  durationMs: z.number(),
  passed: z.number().int(),
  failed: z.number().int(),
  results: z.array(z.object({ id: z.string(), status: z.string() })),
});

const stateSchema = z.object({
  version: z.literal(1),
  lab: z.string(),
  createdAt: z.string(),
  currentStep: z.number().int().positive(),
  hintsShown: z.record(z.string(), z.number().int().nonnegative()),
  completedSteps: z.array(z.number().int().positive()),
  attempts: z.number().int().nonnegative(),
  checkRuns: z.array(checkRunSchema),
  events: z.array(z.object({ at: z.string(), type: z.string(), detail: z.string().optional() })),
});

export type LabState = z.infer<typeof stateSchema>;
export type CheckRun = z.infer<typeof checkRunSchema>;

/** Keeps the file bounded: old check runs are summarised by `attempts`, which keeps counting. */
const MAX_CHECK_RUNS = 200;

export function newState(lab: string, now: Date): LabState {
  return {
    version: 1,
    lab,
    createdAt: now.toISOString(),
    currentStep: 1,
    hintsShown: {},
    completedSteps: [],
    attempts: 0,
    checkRuns: [],
    events: [{ at: now.toISOString(), type: 'created' }],
  };
}

/** The schema of one lab's progress: steps are counted against the lab (currentStep 99 of a 3-step lab is corrupt). */
function schemaFor(lab?: { id: string; steps: number }) {
  if (!lab) return stateSchema;
  const step = z.number().int().min(1).max(lab.steps);
  return stateSchema.extend({
    lab: z.literal(lab.id),
    currentStep: step,
    completedSteps: z.array(step),
    hintsShown: z.record(z.string().regex(/^\d+$/), z.number().int().nonnegative()),
  });
}

export class StateStore {
  private readonly schema: z.ZodType<LabState>;

  /** lab: the lab this progress belongs to and its step count, which the file is checked against. */
  constructor(
    readonly file: string,
    lab?: { id: string; steps: number },
  ) {
    this.schema = schemaFor(lab);
  }

  exists(): boolean {
    return existsSync(this.file);
  }

  read(): LabState {
    const result = readJson(this.file, this.schema);
    if (result.status === 'ok') return result.value;
    throw this.corrupt(result.status === 'missing' ? 'it is missing' : result.reason);
  }

  write(state: LabState): void {
    const trimmed = { ...state, checkRuns: state.checkRuns.slice(-MAX_CHECK_RUNS) };
    writeJsonAtomic(this.file, this.schema.parse(trimmed));
  }

  update(change: (state: LabState) => void): LabState {
    const state = this.read();
    change(state);
    this.write(state);
    return state;
  }

  /** Moves a corrupt file aside (kept for inspection) and returns where it went. */
  quarantine(now: Date): string | undefined {
    return setAside(this.file, now);
  }

  private corrupt(reason: string): EnvironmentError {
    return new EnvironmentError(
      `The lab progress file ${this.file} is corrupt (${reason}). Your workspace files are untouched.`,
      'Run `lab reset`: it keeps your files, sets the corrupt file aside as state.json.corrupt-<time>, and starts progress afresh.',
    );
  }
}
