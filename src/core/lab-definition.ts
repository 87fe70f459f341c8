/**
 * The lab format: a lab is services + workspace files + steps; a step is instructions (markdown), progressive
 * hints and checks; the solution of a step is the marked regions of the workspace files (see solution-regions.ts).
 * Labs are TypeScript modules (labs/<id>/lab.ts) so that checks are typed code; everything else is data and is
 * validated by `labDefinitionSchema` when the catalogue loads the lab.
 */
import { z } from 'zod';
import { UsageError } from './errors.js';
import type { Clock } from './ports.js';

export type CheckStatus = 'pass' | 'fail' | 'error' | 'timeout';

export interface CheckOutcome {
  status: 'pass' | 'fail';
  /** What was observed: on failure, what is wrong. */
  message: string;
  /** On failure, what the learner should do next. */
  fix?: string;
  details?: Record<string, unknown>;
}

export const pass = (message: string, details?: Record<string, unknown>): CheckOutcome => ({
  status: 'pass',
  message,
  details,
});
export const fail = (message: string, fix: string, details?: Record<string, unknown>): CheckOutcome => ({
  status: 'fail',
  message,
  fix,
  details,
});

export interface JobResult {
  exitCode: number;
  output: string;
  /** When the run began (epoch ms), set by the grading pass: evidence older than this is not this run's. */
  startedAt?: number;
}

/**
 * What a check may use: everything a lab's hooks may (LabControl), and more. Everything reaches the lab through
 * the runtime, so checks run unchanged on any runtime.
 */
export interface CheckContext extends LabControl {
  labDir: string;
  repoDir: string;
  /** Base URL of a service as the lab's services see it (its identity: token audiences, issuers). */
  serviceUrl(service: string): URL;
  /** Maps a URL the services use (e.g. one a server advertises) to one the checker can reach. */
  reachable(url: string): URL;
  /** Runs a job service (e.g. the agent) to completion. */
  runJob(service: string): Promise<JobResult>;
  /**
   * Runs `argv` in a fresh container of a job service, made as the job's own are (its user, mounts, networks),
   * in place of the job's command: how a stage check looks at the lab from inside a workload. Docker only.
   */
  probeJob?(service: string, argv: string[]): Promise<JobResult>;
  /** The service's log so far (for "never logged" checks and failure context). */
  logs(service: string): Promise<string>;
  signal: AbortSignal;
}

export interface ExecOptions {
  /** Written to the command's stdin. */
  input?: string;
  timeoutMs?: number;
}

/** What a lab's own hooks (and its checks) may do with its running services. */
export interface LabControl {
  workspaceDir: string;
  secretsDir: string;
  /** Base URL of a service as reachable from the host (the runner, the checker). */
  url(service: string): URL;
  /** Runs a command inside a running service's container (Docker runtime only), e.g. `spire-server entry show`. */
  exec(service: string, argv: string[], options?: ExecOptions): Promise<JobResult>;
  /** The runner's clock: waits and deadlines go through it, so tests can drive them. */
  clock: Clock;
}

export interface CheckDefinition {
  id: string;
  title: string;
  timeoutMs?: number;
  run(ctx: CheckContext): Promise<CheckOutcome>;
}

/** How a service's environment is computed: URLs differ per runtime (127.0.0.1:port locally, DNS names in compose). */
export interface ServiceEnvContext {
  url(service: string): string;
  /** The URL this service is reached at by others. */
  selfUrl: string;
  port: number;
  host: string;
  workspaceDir: string;
  secretsDir: string;
  repoDir: string;
}

export interface ServiceDefinition {
  name: string;
  /** lab: provided by the course; learner: runs code from the workspace; job: runs to completion on demand. */
  role: 'lab' | 'learner' | 'job';
  /**
   * Entry module; `repo:` paths are relative to the repository, `workspace:` paths to the learner's workspace.
   * Without one, the service is an upstream image (SPIRE, OPA) described by the compose file alone: Docker only,
   * no host port, no environment from the lab.
   */
  entry?: string;
  env(ctx: ServiceEnvContext): Record<string, string>;
  healthPath?: string;
  dependsOn?: string[];
  /** Workspace paths whose change means the service must restart before checks. */
  watch?: string[];
  /** Its published port serves mutual TLS with the workload's SVID (lab 2): shown as https://, probed for an SVID. */
  tls?: boolean;
}

export interface WorkspaceFile {
  /** Repository-relative source holding the reference solution with its step regions. */
  source: string;
  /** Path inside the learner's workspace. */
  path: string;
}

export interface StepDefinition {
  id: string;
  title: string;
  /** Markdown file, relative to the lab folder. */
  instructions: string;
  hints: string[];
  checks: CheckDefinition[];
  /**
   * Work the step asks the learner to do by hand on the running lab rather than in a file (lab 2: register a
   * workload with `spire-server entry create`). `lab solve` and `lab test` do it after writing the step's files;
   * returns what was done, as the learner would have typed it.
   */
  solveByHand?(control: LabControl): Promise<string>;
}

export interface LabDefinition {
  id: string;
  title: string;
  summary: string;
  minutes: number;
  runtimes: Array<'local' | 'docker'>;
  /** Why a Docker-only lab cannot run on the local runtime (said when --runtime local is asked for). */
  dockerOnly?: string;
  files: WorkspaceFile[];
  services: ServiceDefinition[];
  /** Creates the per-run secrets (keys, client credentials) under secretsDir; called on every fresh start. */
  prepare?(secretsDir: string): Promise<void>;
  /**
   * Applies learner configuration that is data for a running service rather than code (SPIRE registration
   * entries) after every start and before every grading pass; returns what could not be applied.
   */
  sync?(control: LabControl): Promise<Array<{ service: string; message: string }>>;
  /** Called by `lab reset` (not --hard) once progress restarts; returns what to tell the learner. */
  onReset?(workspace: { workspaceDir: string; now: Date }): string[];
  steps: StepDefinition[];
  /**
   * Checks of the lab's own stage, not of learner work (the threat model: what a workload can read, reach or
   * change). `lab test` runs them on the solved lab; `lab check` never does.
   */
  stageChecks?: CheckDefinition[];
}

const id = z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be kebab-case: lowercase letters, digits and dashes');
const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', 'must be a function');

export const labDefinitionSchema = z.object({
  id,
  title: z.string().min(1),
  summary: z.string().min(1),
  minutes: z.number().int().positive(),
  runtimes: z.array(z.enum(['local', 'docker'])).min(1),
  dockerOnly: z.string().min(1).optional(),
  files: z.array(z.object({ source: z.string().min(1), path: z.string().min(1) })),
  services: z
    .array(
      z.object({
        name: id,
        role: z.enum(['lab', 'learner', 'job']),
        entry: z
          .string()
          .regex(/^(repo|workspace):.+\.ts$/, 'must be repo:<path>.ts or workspace:<path>.ts')
          .optional(),
        env: fn,
        healthPath: z.string().startsWith('/').optional(),
        dependsOn: z.array(id).optional(),
        watch: z.array(z.string()).optional(),
        tls: z.boolean().optional(),
      }),
    )
    .min(1),
  prepare: fn.optional(),
  sync: fn.optional(),
  onReset: fn.optional(),
  steps: z
    .array(
      z.object({
        id,
        title: z.string().min(1),
        instructions: z.string().endsWith('.md'),
        hints: z.array(z.string().min(1)),
        checks: z
          .array(z.object({ id, title: z.string().min(1), timeoutMs: z.number().int().positive().optional(), run: fn }))
          .min(1, 'every step needs at least one check'),
        solveByHand: fn.optional(),
      }),
    )
    .min(1),
  stageChecks: z
    .array(z.object({ id, title: z.string().min(1), timeoutMs: z.number().int().positive().optional(), run: fn }))
    .optional(),
});

/** Identity function that gives lab authors type checking. */
export function defineLab(lab: LabDefinition): LabDefinition {
  return lab;
}

/** The services that run (lab and learner services): a job runs only on demand, for the checks. */
export function runningServices(definition: Pick<LabDefinition, 'services'>): ServiceDefinition[] {
  return definition.services.filter((s) => s.role !== 'job');
}

/** Step `step` (1-based) of the lab; a step the lab does not have is a usage error naming the range. */
export function stepOf(definition: Pick<LabDefinition, 'id' | 'steps'>, step: number): StepDefinition {
  const found = Number.isInteger(step) && step >= 1 ? definition.steps[step - 1] : undefined;
  if (!found)
    throw new UsageError(
      `Lab ${definition.id} has no step ${step}.`,
      `Choose a step from 1 to ${definition.steps.length}.`,
    );
  return found;
}
