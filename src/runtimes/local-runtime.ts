/**
 * The local process runtime: each service is a Node process in its own process group, bound to 127.0.0.1 on a
 * free port, logging to .lab/logs/<service>.log, tracked in .lab/runtime.json (pid and start time). Every
 * process carries markers in its environment (LAB_RUN_ID, LAB_WORKSPACE, LAB_HOME): a recorded pid is the
 * lab's only when its start time and run id match (see lab-processes.ts), and stop finds every process of the
 * workspace from the markers alone, with runtime.json corrupt or gone.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { findLabProcesses, MARKER, stopLabProcesses, verifyRecorded, type LabMarkers } from './lab-processes.js';
import { freshRun, localRecordSchema, RuntimeRecord, type LocalRecord } from './runtime-record.js';
import { EnvironmentError } from '../core/errors.js';
import { logSectionMarker } from '../core/log-sections.js';
import type { LoadedLab } from '../core/lab-catalog.js';
import { runningServices, type JobResult, type ServiceDefinition } from '../core/lab-definition.js';
import { repoDir, type WorkspacePaths } from '../core/paths.js';
import type { Clock, ProcessControl, ProcessIdentity } from '../core/ports.js';
import { machineTimeout } from '../core/timeouts.js';
import { probe } from './http-probe.js';
import { busyPort, choosePort, isPortFree } from './port-check.js';
import type { DownResult, Runtime, ServiceProblem, ServiceStatus, StartProgress, UpOptions } from '../core/runtime.js';
import { fingerprint, nodeArgs, startOrder } from './service-graph.js';
import { lastLines } from '../core/text.js';

type LocalState = LocalRecord;
type ServiceRecord = LocalState['services'][string];

const HOST = '127.0.0.1';
const HEALTH_TIMEOUT_MS = machineTimeout(20_000);
const STOP_GRACE_MS = 5_000;
const JOB_TIMEOUT_MS = machineTimeout(60_000);
const BASE_ENV = ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR', 'SYSTEMROOT'];

export class LocalRuntime implements Runtime {
  readonly kind = 'local' as const;
  private readonly services: ServiceDefinition[];
  private readonly record: RuntimeRecord<LocalState>;

  constructor(
    private readonly lab: LoadedLab,
    private readonly paths: WorkspacePaths,
    private readonly processes: ProcessControl,
    private readonly clock: Clock,
    notice: (message: string) => void = () => undefined,
  ) {
    this.services = startOrder(lab.definition.services);
    this.record = new RuntimeRecord<LocalState>({
      file: paths.runtime,
      kind: 'local',
      labId: lab.definition.id,
      schema: localRecordSchema,
      clock,
      notice,
    });
  }

  async up({ ports, onProgress }: UpOptions): Promise<ServiceProblem[]> {
    const state = this.record.read() ?? { kind: 'local', ...freshRun(this.clock), services: {} };
    // A recorded pid that is no longer the lab's process (gone, or reused by another program) is forgotten, never adopted.
    for (const [name, record] of Object.entries(state.services))
      if (!this.verified(state, record)) delete state.services[name];
    // Processes of this workspace that no valid record names (runtime.json lost or damaged) would hold ports and never stop.
    await this.stopOrphans(state);
    // Every port is settled before anything is stopped: a refused --port leaves the running lab as it was.
    const moves: string[] = [];
    for (const service of this.longRunning()) {
      const record = state.services[service.name];
      const wanted = ports[service.name];
      if (record && (wanted === undefined || wanted === record.port)) continue;
      if (record) {
        if (!(await isPortFree(wanted!))) throw busyPort(wanted!, service.name);
        moves.push(service.name);
        continue;
      }
      state.ports[service.name] = await choosePort(
        service.name,
        wanted ?? state.ports[service.name],
        wanted !== undefined,
      );
    }
    for (const name of moves) {
      await this.stopService(state, name);
      state.ports[name] = ports[name]!;
    }
    this.record.write(state);
    return this.converge(state, onProgress, 'start');
  }

  /** The recorded service's process, if it still is the one this run started. */
  private verified(state: LocalState, record: ServiceRecord | undefined): ProcessIdentity | undefined {
    return record
      ? verifyRecorded(this.processes, record.pid, { startTime: record.startTime, runId: state.runId })
      : undefined;
  }

  private markers(): LabMarkers {
    return { workspace: this.paths.dir, home: this.paths.home };
  }

  /** Every process of this workspace: the verified recorded services and whatever else carries the markers. */
  private labProcesses(state: LocalState | undefined): ProcessIdentity[] {
    const found = findLabProcesses(this.processes, this.markers());
    for (const record of Object.values(state?.services ?? {})) {
      const identity = this.verified(state!, record);
      if (identity && !found.some((p) => p.pid === identity.pid)) found.push(identity);
    }
    return found;
  }

  private async stopOrphans(state: LocalState): Promise<void> {
    const recorded = new Set(Object.values(state.services).map((r) => r.pid));
    // Members of a recorded service's group (its children) belong to that service.
    const orphans = this.labProcesses(undefined).filter((p) => !recorded.has(p.pid) && !recorded.has(p.pgid));
    await stopLabProcesses(this.processes, this.clock, orphans, STOP_GRACE_MS);
  }

  async refresh({ onProgress }: { onProgress?: StartProgress } = {}): Promise<ServiceProblem[]> {
    const state = this.record.require();
    return this.converge(state, onProgress, 'refresh');
  }

  /** Brings every service to "running with the current fingerprint", in dependency order. */
  private async converge(
    state: LocalState,
    onProgress: StartProgress | undefined,
    mode: 'start' | 'refresh',
  ): Promise<ServiceProblem[]> {
    const problems: ServiceProblem[] = [];
    for (const service of this.longRunning()) {
      const env = this.serviceEnv(state, service);
      const print = fingerprint(env, this.paths.dir, service.watch);
      const record = state.services[service.name];
      const alive = this.verified(state, record) !== undefined;
      if (alive && record!.fingerprint === print) {
        onProgress?.({ service: service.name, phase: 'kept' });
        continue;
      }
      if (!alive && record && mode === 'refresh' && service.role === 'lab') {
        throw new EnvironmentError(
          `Service ${service.name} (pid ${record.pid}) is not running: it was stopped or killed outside the lab.${this.tailNote(service.name)}`,
          'Run `lab start` to restart it (your work is kept), then run `lab check` again.',
        );
      }
      if (alive) await this.stopService(state, service.name);
      onProgress?.({ service: service.name, phase: 'starting' });
      const problem = await this.startService(state, service, env, print);
      if (problem) {
        onProgress?.({ service: service.name, phase: 'failed', detail: problem.message });
        if (service.role === 'lab') {
          throw new EnvironmentError(
            `Service ${service.name} did not start: ${problem.message}\n${problem.logTail}`,
            `See \`lab logs ${service.name}\`; run \`lab doctor\` to check the machine.`,
          );
        }
        problems.push(problem);
      } else {
        onProgress?.({ service: service.name, phase: 'healthy' });
      }
    }
    return problems;
  }

  private async startService(
    state: LocalState,
    service: ServiceDefinition,
    env: Record<string, string>,
    print: string,
  ): Promise<ServiceProblem | undefined> {
    const port = state.ports[service.name]!;
    if (!(await isPortFree(port))) {
      throw busyPort(port, service.name);
    }
    this.startLogSection(service.name);
    const pid = this.processes.spawnDetached({
      command: process.execPath,
      args: nodeArgs(service, this.paths.dir),
      env,
      cwd: this.paths.dir,
      logFile: this.logFile(service.name),
    });
    // The start time is read at once: it is what later tells this process from one that reuses its pid.
    const startTime = this.processes.identify(pid)?.startTime;
    state.services[service.name] = {
      pid,
      port,
      fingerprint: print,
      startedAt: this.clock.now().toISOString(),
      startTime,
    };
    this.record.write(state);
    return this.waitHealthy(service, state, state.services[service.name]!);
  }

  private async waitHealthy(
    service: ServiceDefinition,
    state: LocalState,
    record: ServiceRecord,
  ): Promise<ServiceProblem | undefined> {
    const { port } = record;
    const deadline = this.clock.now().getTime() + HEALTH_TIMEOUT_MS;
    while (this.clock.now().getTime() < deadline) {
      if (!this.verified(state, record)) {
        return {
          service: service.name,
          message: `${service.name} exited during startup`,
          logTail: await this.logTail(service.name),
        };
      }
      if (await probe(`http://${HOST}:${port}${service.healthPath ?? '/'}`)) return undefined;
      await this.clock.sleep(50);
    }
    return {
      service: service.name,
      message: `${service.name} did not answer ${service.healthPath ?? '/'} within ${HEALTH_TIMEOUT_MS / 1000} s`,
      logTail: await this.logTail(service.name),
    };
  }

  private async stopService(state: LocalState, name: string): Promise<void> {
    const identity = this.verified(state, state.services[name]);
    if (identity) {
      const members = this.labProcesses(undefined).filter((p) => p.pgid === identity.pid && p.pid !== identity.pid);
      await stopLabProcesses(this.processes, this.clock, [identity, ...members], STOP_GRACE_MS);
    }
    delete state.services[name];
    this.record.write(state);
  }

  /**
   * Stops every process of this workspace: those the record names (when verified) and every other one that
   * carries the workspace's markers, strays that left their group included. Works without any record.
   */
  async down(): Promise<DownResult> {
    const state = this.record.read();
    const names = new Map(Object.entries(state?.services ?? {}).map(([name, r]) => [r.pid, name]));
    const describe = (p: ProcessIdentity) => (names.has(p.pid) ? `${names.get(p.pid)} (pid ${p.pid})` : `pid ${p.pid}`);
    const targets = this.labProcesses(state);
    const left = await stopLabProcesses(this.processes, this.clock, targets, STOP_GRACE_MS);
    const still = [...left, ...this.labProcesses(state).filter((p) => !left.some((l) => l.pid === p.pid))];
    if (still.length === 0) this.record.remove();
    return {
      stopped: targets.filter((t) => !still.some((p) => p.pid === t.pid)).map(describe),
      left: still.map(describe),
    };
  }

  async status(): Promise<ServiceStatus[]> {
    const state = this.record.read();
    return Promise.all(
      this.lab.definition.services.map(async (service): Promise<ServiceStatus> => {
        if (service.role === 'job')
          return { name: service.name, role: service.role, state: 'job', detail: 'runs on demand (lab check)' };
        const record = state?.services[service.name];
        if (!record || !this.verified(state!, record))
          return {
            name: service.name,
            role: service.role,
            state: 'stopped',
            detail: record ? `pid ${record.pid} is gone` : undefined,
          };
        const url = `http://${HOST}:${record.port}`;
        const healthy = await probe(`${url}${service.healthPath ?? '/'}`);
        return {
          name: service.name,
          role: service.role,
          state: healthy ? 'running' : 'unhealthy',
          url,
          pid: record.pid,
        };
      }),
    );
  }

  async isUp(): Promise<boolean> {
    const state = this.record.read();
    return this.labProcesses(state).length > 0;
  }

  url(service: string): URL {
    return this.record.hostUrl(service);
  }

  serviceUrl(service: string): URL {
    return this.url(service);
  }

  async exec(service: string): Promise<JobResult> {
    throw new EnvironmentError(
      `Cannot run a command inside ${service}: on the local runtime services are plain processes.`,
      'Use the Docker runtime for this lab: `lab start <lab> --runtime docker`.',
    );
  }

  async runJob(name: string): Promise<JobResult> {
    const state = this.record.require();
    const service = this.lab.definition.services.find((s) => s.name === name && s.role === 'job');
    if (!service) throw new Error(`no job service "${name}"`);
    this.startLogSection(name);
    return this.processes.run({
      command: process.execPath,
      args: nodeArgs(service, this.paths.dir),
      env: this.serviceEnv(state, service),
      cwd: this.paths.dir,
      timeoutMs: JOB_TIMEOUT_MS,
      logFile: this.logFile(name),
    });
  }

  async logs(service: string): Promise<string> {
    const file = this.logFile(service);
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /** Each start begins a new log section: graders read only the current one (src/core/log-sections.ts). */
  private startLogSection(service: string): void {
    mkdirSync(this.paths.logs, { recursive: true });
    appendFileSync(this.logFile(service), logSectionMarker(service, this.clock.now()));
  }

  private logFile(service: string): string {
    return path.join(this.paths.logs, `${service}.log`);
  }

  private serviceEnv(state: LocalState, service: ServiceDefinition): Record<string, string> {
    const port = state.ports[service.name] ?? 0;
    const url = (name: string) => {
      const p = state.ports[name];
      if (p === undefined) throw new Error(`service ${service.name} refers to ${name}, which has no port`);
      return `http://${HOST}:${p}`;
    };
    const base = Object.fromEntries(
      BASE_ENV.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!]),
    );
    const own = service.env({
      url,
      selfUrl: `http://${HOST}:${port}`,
      port,
      host: HOST,
      workspaceDir: this.paths.dir,
      secretsDir: this.paths.secrets,
      repoDir,
    });
    // Production mode as in the services image: Express and other libraries then keep stack traces out of answers.
    // LAB_SERVICE_NAME turns on the log stamp (preload.ts) for long-running services; jobs stay unstamped.
    const stamp: Record<string, string> = service.role === 'job' ? {} : { LAB_SERVICE_NAME: service.name };
    return {
      ...base,
      ...own,
      ...stamp,
      HOST,
      PORT: String(port),
      [MARKER.runId]: state.runId,
      [MARKER.workspace]: this.paths.dir,
      [MARKER.home]: this.paths.home,
      NO_COLOR: '1',
      NODE_ENV: 'production',
    };
  }

  private longRunning(): ServiceDefinition[] {
    return runningServices({ services: this.services });
  }

  private async logTail(service: string, lines = 15): Promise<string> {
    return lastLines(await this.logs(service), lines).join('\n');
  }

  private tailNote(service: string): string {
    const file = this.logFile(service);
    if (!existsSync(file)) return '';
    const tail = lastLines(readFileSync(file, 'utf8'), 5).join('\n  ');
    return tail ? `\nIts log ends with:\n  ${tail}` : '';
  }
}
