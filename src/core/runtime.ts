/**
 * A runtime runs one lab's services for one workspace. The local runtime (child processes) is the embedded
 * default; the Docker compose runtime drives the same lab definitions through this same interface.
 */
import type { ExecOptions, JobResult } from './lab-definition.js';

export type RuntimeKind = 'local' | 'docker';

/** What --runtime accepts: auto = docker when the engine answers and compose is installed, else local. */
export const RUNTIME_CHOICES = ['auto', 'docker', 'local'] as const;

export interface ServiceStatus {
  name: string;
  role: 'lab' | 'learner' | 'job';
  /** waiting: running, but an mTLS service that holds no SVID yet (set by `lab status`, see commands/identity.ts). */
  state: 'running' | 'unhealthy' | 'stopped' | 'job' | 'waiting';
  url?: string;
  pid?: number;
  detail?: string;
}

/** Called as each service starts, becomes healthy or fails. */
export type StartProgress = (event: {
  service: string;
  phase: 'starting' | 'healthy' | 'failed' | 'kept';
  detail?: string;
}) => void;

/** A learner service that could not start: not an environment error, the checks report it with this context. */
export interface ServiceProblem {
  service: string;
  message: string;
  /** The end of the service's log; absent when no process failed (lab configuration that could not be applied). */
  logTail?: string;
}

export interface DownResult {
  stopped: string[];
  left: string[];
}

export interface UpOptions {
  /** Services pinned to a port by the learner (--port); the others get free ports. */
  ports: Record<string, number>;
  onProgress?: StartProgress;
}

export interface Runtime {
  readonly kind: RuntimeKind;
  /** Starts what is not running, keeps what is healthy; safe to call again (a second start repairs). */
  up(options: UpOptions): Promise<ServiceProblem[]>;
  /** Before checks: restarts learner services whose files changed or that died; a dead lab service is an error. */
  refresh(options?: { onProgress?: StartProgress }): Promise<ServiceProblem[]>;
  status(): Promise<ServiceStatus[]>;
  isUp(): Promise<boolean>;
  url(service: string): URL;
  /** The URL services use for each other (local: the same as url; compose: the service's DNS name). */
  serviceUrl(service: string): URL;
  runJob(service: string): Promise<JobResult>;
  /** A job's container with `argv` in place of its command (stage checks); runtimes without containers omit it. */
  probeJob?(service: string, argv: string[]): Promise<JobResult>;
  /** Runs a command inside a running service (Docker only: a local service is a plain process). */
  exec(service: string, argv: string[], options?: ExecOptions): Promise<JobResult>;
  logs(service: string): Promise<string>;
  /**
   * Stops everything of the lab in this workspace - found from run markers and labels, not only from
   * runtime.json - then verifies. Says what it stopped and what could not be stopped (empty when clean).
   */
  down(): Promise<DownResult>;
}
