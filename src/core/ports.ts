/**
 * The outside world, as the core sees it. Adapters in src/adapters/ implement these with real technology;
 * tests hand-write fakes where the real thing would be slow or unsafe.
 */
export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export interface Prompter {
  /** False when nobody can answer (no TTY, CI): callers then need an explicit flag instead. */
  readonly interactive: boolean;
  confirm(message: string, defaultValue: boolean): Promise<boolean>;
  select<T extends string>(message: string, choices: Array<{ value: T; name: string; description?: string }>): Promise<T>;
}

export interface SpawnRequest {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  logFile: string;
}

export interface ProcessControl {
  /** Starts a process in its own process group, output appended to logFile; returns its pid (= its group id). */
  spawnDetached(request: SpawnRequest): number;
  isAlive(pid: number): boolean;
  /** Signals the whole process group; false when it no longer exists. */
  signalGroup(pgid: number, signal: NodeJS.Signals): boolean;
  /** Pids of processes whose environment holds name=value: finds strays that left their group. */
  findByEnv(name: string, value: string): number[];
  run(request: Omit<SpawnRequest, 'logFile'> & { timeoutMs: number; logFile?: string }): Promise<{ exitCode: number; output: string }>;
}
