/**
 * Learner progress per workspace: current step, hints seen, every check run with its time, and events such as
 * solves and resets. Written atomically; a file that does not parse is reported, never silently replaced.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { z } from 'zod';
import { writeJsonAtomic } from './atomic-file.js';
import { EnvironmentError } from './errors.js';

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

export class StateStore {
  constructor(readonly file: string) {}

  exists(): boolean {
    return existsSync(this.file);
  }

  read(): LabState {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (error) {
      throw this.corrupt((error as Error).message);
    }
    const parsed = stateSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw this.corrupt(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    return parsed.data;
  }

  write(state: LabState): void {
    const trimmed = { ...state, checkRuns: state.checkRuns.slice(-MAX_CHECK_RUNS) };
    writeJsonAtomic(this.file, stateSchema.parse(trimmed));
  }

  update(change: (state: LabState) => void): LabState {
    const state = this.read();
    change(state);
    this.write(state);
    return state;
  }

  /** Moves a corrupt file aside (kept for inspection) and returns where it went. */
  quarantine(now: Date): string {
    const target = `${this.file}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;
    renameSync(this.file, target);
    return target;
  }

  private corrupt(reason: string): EnvironmentError {
    return new EnvironmentError(
      `The lab progress file ${this.file} is corrupt (${reason}). Your workspace files are untouched.`,
      'Run `lab reset`: it keeps your files, sets the corrupt file aside as state.json.corrupt-<time>, and starts progress afresh.',
    );
  }
}
