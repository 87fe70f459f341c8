/**
 * The outside world, as the core sees it. Adapters in src/adapters/ implement these with real technology;
 * tests hand-write fakes where the real thing would be slow or unsafe.
 */
import type { ChalkInstance } from 'chalk';

export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export interface Prompter {
  /** False when nobody can answer (no TTY, CI): callers then need an explicit flag instead. */
  readonly interactive: boolean;
  confirm(message: string, defaultValue: boolean): Promise<boolean>;
  /** `initial` is where the cursor starts: the action the caller expects next (Enter takes it). */
  select<T extends string>(
    message: string,
    choices: Array<{ value: T; name: string; description?: string }>,
    initial?: T,
  ): Promise<T>;
}

export interface SpawnRequest {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  logFile: string;
}

/**
 * Who a process is, as far as the lab can tell: its start time (clock ticks since boot, from /proc/<pid>/stat)
 * tells a process from a later one that reuses its pid; its LAB_* environment says which lab run it belongs to.
 */
export interface ProcessIdentity {
  pid: number;
  /** Process group id: a group is signalled only through a leader (pid === pgid) that is verified as the lab's. */
  pgid: number;
  startTime: string;
  /** The process's LAB_* environment variables (LAB_RUN_ID, LAB_WORKSPACE, LAB_HOME), as it was started with. */
  markers: Record<string, string>;
}

export interface ProcessControl {
  /** Starts a process in its own process group, output appended to logFile; returns its pid (= its group id). */
  spawnDetached(request: SpawnRequest): number;
  isAlive(pid: number): boolean;
  /** The identity of a live process; undefined when it is gone, a zombie, or cannot be read (never guessed). */
  identify(pid: number): ProcessIdentity | undefined;
  /** Signals the whole process group; false when it no longer exists. Callers verify the leader first. */
  signalGroup(pgid: number, signal: NodeJS.Signals): boolean;
  /** Signals one process; false when it no longer exists. Callers verify it first. */
  signal(pid: number, signal: NodeJS.Signals): boolean;
  /** Pids of processes (this one excluded) whose environment holds name=value: finds the lab's processes without any record. */
  findByEnv(name: string, value: string): number[];
  run(
    request: Omit<SpawnRequest, 'logFile'> & { timeoutMs: number; logFile?: string },
  ): Promise<{ exitCode: number; output: string }>;
}

export interface ContainerSummary {
  id: string;
  name: string;
  /** compose service name (label com.docker.compose.service). */
  service: string;
  state: string;
  /** healthy | unhealthy | starting, when the container has a healthcheck. */
  health?: string;
  labels: Record<string, string>;
}

/** The container engine (Docker), for what compose does not tell well: health, inspection, logs, leftovers. */
export interface ContainerEngine {
  ping(): Promise<boolean>;
  version(): Promise<{ server: string; api: string }>;
  containers(label: string): Promise<ContainerSummary[]>;
  networks(label: string): Promise<string[]>;
  volumes(label: string): Promise<string[]>;
  /**
   * Takes down everything carrying the label, as `compose down -v --remove-orphans` does: containers stopped
   * (SIGTERM, then SIGKILL after stopSeconds) and removed with their anonymous volumes, then networks and
   * volumes. Returns what the engine refused; something already gone is no error.
   */
  removeAll(label: string, options: { stopSeconds: number }): Promise<string[]>;
  logs(containerId: string): Promise<string>;
  /** Runs a command in a running container (no shell needed: the SPIRE and OPA images have none). */
  exec(
    containerId: string,
    argv: string[],
    options?: { input?: string; timeoutMs?: number },
  ): Promise<{ exitCode: number; output: string }>;
  /** Labels of a local image, undefined when the image is not present. */
  image(ref: string): Promise<Record<string, string> | undefined>;
}

/** docker compose (v2 plugin) or docker-compose (v1): one command runner either way. */
export interface ComposeTool {
  readonly flavour: 'v2' | 'v1';
  readonly version: string;
  run(
    args: string[],
    options: { env: Record<string, string>; timeoutMs?: number },
  ): Promise<{ exitCode: number; output: string }>;
}

/**
 * Where text goes. Results go to stdout; progress and diagnostics to stderr, so `--json` output stays clean.
 * Colour only on a TTY and never with NO_COLOR.
 */
export interface Output {
  readonly color: ChalkInstance;
  readonly tty: boolean;
  /** Progress displays stay silent (used when a command runs inside another, e.g. the self-test). */
  readonly quiet?: boolean;
  out(text: string): void;
  err(text: string): void;
  /** Writes to stdout as is (no line break added): a followed log arrives in pieces. */
  write(text: string): void;
  /** True once stdout's reader went away (`lab logs -f x | head`): nothing more can be shown. */
  closed(): boolean;
}

/** The docker command line, for what the engine API makes awkward: builds, imports, save/load, pull. */
export interface DockerCli {
  build(options: {
    context: string;
    dockerfile: string;
    tag: string;
    args?: Record<string, string>;
    labels?: Record<string, string>;
  }): Promise<void>;
  importRootfs(tarball: string, tag: string, labels: Record<string, string>): Promise<void>;
  pull(ref: string): Promise<void>;
  save(refs: string[], file: string): Promise<void>;
  load(file: string): Promise<string>;
  run(image: string, args: string[], entrypoint?: string): Promise<string>;
  /** Removes untagged images carrying the label: what a rebuild leaves of the previous build. */
  pruneDangling(label: string): Promise<void>;
}
