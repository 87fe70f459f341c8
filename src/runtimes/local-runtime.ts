/**
 * The local process runtime: each service is a Node process in its own process group, bound to 127.0.0.1 on a
 * free port, logging to .lab/logs/<service>.log, tracked in .lab/runtime.json with the run id in its
 * environment (LAB_RUN_ID) so that stop can find and verify every process of the lab, strays included.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { RuntimeRecord } from './runtime-record.js';
import { EnvironmentError } from '../core/errors.js';
import { logSectionMarker } from '../core/log-sections.js';
import type { LoadedLab } from '../core/lab-catalog.js';
import type { JobResult, ServiceDefinition } from '../core/lab-definition.js';
import { repoDir, type WorkspacePaths } from '../core/paths.js';
import type { Clock, ProcessControl } from '../core/ports.js';
import { busyPort, choosePort, isPortFree } from './port-check.js';
import type { Runtime, ServiceProblem, ServiceStatus, StartProgress } from './runtime.js';
import { entryPath, fingerprint, startOrder } from './service-graph.js';

interface ServiceRecord {
  pid: number;
  port: number;
  fingerprint: string;
  startedAt: string;
}

interface LocalState {
  kind: 'local';
  runId: string;
  startedAt: string;
  ports: Record<string, number>;
  services: Record<string, ServiceRecord>;
}

const HOST = '127.0.0.1';
const HEALTH_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const JOB_TIMEOUT_MS = 60_000;
const BASE_ENV = ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR', 'SYSTEMROOT'];
// Services run their TypeScript through tsx, like the CLI itself: absolute, so it resolves from any cwd.
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export class LocalRuntime implements Runtime {
  readonly kind = 'local' as const;
  private readonly services: ServiceDefinition[];
  private readonly record: RuntimeRecord<LocalState>;

  constructor(
    private readonly lab: LoadedLab,
    private readonly paths: WorkspacePaths,
    private readonly processes: ProcessControl,
    private readonly clock: Clock,
  ) {
    this.services = startOrder(lab.definition.services);
    this.record = new RuntimeRecord<LocalState>(paths.runtime, 'local', lab.definition.id);
  }

  async up({ ports, onProgress }: { ports: Record<string, number>; onProgress?: StartProgress }): Promise<ServiceProblem[]> {
    const state = this.record.read() ?? { kind: 'local', runId: randomBytes(8).toString('hex'), startedAt: this.clock.now().toISOString(), ports: {}, services: {} };
    for (const service of this.longRunning()) {
      const record = state.services[service.name];
      const running = record && this.processes.isAlive(record.pid);
      const wanted = ports[service.name];
      if (running && (wanted === undefined || wanted === record.port)) continue;
      if (running) await this.stopService(state, service.name);
      state.ports[service.name] = await choosePort(service.name, wanted ?? state.ports[service.name], wanted !== undefined);
    }
    this.record.write(state);
    return this.converge(state, onProgress, 'start');
  }

  async refresh({ onProgress }: { onProgress?: StartProgress } = {}): Promise<ServiceProblem[]> {
    const state = this.record.require();
    return this.converge(state, onProgress, 'refresh');
  }

  /** Brings every service to "running with the current fingerprint", in dependency order. */
  private async converge(state: LocalState, onProgress: StartProgress | undefined, mode: 'start' | 'refresh'): Promise<ServiceProblem[]> {
    const problems: ServiceProblem[] = [];
    for (const service of this.longRunning()) {
      const env = this.serviceEnv(state, service);
      const print = fingerprint(env, this.paths.dir, service.watch);
      const record = state.services[service.name];
      const alive = record !== undefined && this.processes.isAlive(record.pid);
      if (alive && record.fingerprint === print) {
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
          throw new EnvironmentError(`Service ${service.name} did not start: ${problem.message}\n${problem.logTail}`, `See \`lab logs ${service.name}\`; run \`lab doctor\` to check the machine.`);
        }
        problems.push(problem);
      } else {
        onProgress?.({ service: service.name, phase: 'healthy' });
      }
    }
    return problems;
  }

  private async startService(state: LocalState, service: ServiceDefinition, env: Record<string, string>, print: string): Promise<ServiceProblem | undefined> {
    const port = state.ports[service.name]!;
    if (!(await isPortFree(port))) {
      throw busyPort(port, service.name);
    }
    this.startLogSection(service.name);
    const pid = this.processes.spawnDetached({
      command: process.execPath,
      args: ['--import', TSX_LOADER, entryPath(service, this.paths.dir)],
      env,
      cwd: this.paths.dir,
      logFile: this.logFile(service.name),
    });
    state.services[service.name] = { pid, port, fingerprint: print, startedAt: this.clock.now().toISOString() };
    this.record.write(state);
    return this.waitHealthy(service, pid, port);
  }

  private async waitHealthy(service: ServiceDefinition, pid: number, port: number): Promise<ServiceProblem | undefined> {
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!this.processes.isAlive(pid)) {
        return { service: service.name, message: `${service.name} exited during startup`, logTail: await this.logTail(service.name) };
      }
      if (await probe(`http://${HOST}:${port}${service.healthPath ?? '/'}`)) return undefined;
      await this.clock.sleep(50);
    }
    return { service: service.name, message: `${service.name} did not answer ${service.healthPath ?? '/'} within ${HEALTH_TIMEOUT_MS / 1000} s`, logTail: await this.logTail(service.name) };
  }

  private async stopService(state: LocalState, name: string): Promise<void> {
    const record = state.services[name];
    if (!record) return;
    await this.stopGroups([record.pid]);
    delete state.services[name];
    this.record.write(state);
  }

  private async stopGroups(pids: number[]): Promise<void> {
    for (const pid of pids) this.processes.signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + STOP_GRACE_MS;
    while (pids.some((p) => this.processes.isAlive(p)) && Date.now() < deadline) await this.clock.sleep(50);
    for (const pid of pids.filter((p) => this.processes.isAlive(p))) this.processes.signalGroup(pid, 'SIGKILL');
    await this.clock.sleep(pids.length > 0 ? 20 : 0);
  }

  async down(): Promise<string[]> {
    const state = this.record.read();
    if (!state) return [];
    await this.stopGroups(Object.values(state.services).map((r) => r.pid));
    // Strays: anything that carries this run's id but left its process group.
    const strays = this.processes.findByEnv('LAB_RUN_ID', state.runId);
    for (const pid of strays) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await this.clock.sleep(strays.length > 0 ? 100 : 0);
    const left = [
      ...Object.entries(state.services).filter(([, r]) => this.processes.isAlive(r.pid)).map(([name, r]) => `${name} (pid ${r.pid})`),
      ...this.processes.findByEnv('LAB_RUN_ID', state.runId).map((pid) => `pid ${pid}`),
    ];
    if (left.length === 0) this.record.remove();
    return [...new Set(left)];
  }

  async status(): Promise<ServiceStatus[]> {
    const state = this.record.read();
    return Promise.all(
      this.lab.definition.services.map(async (service): Promise<ServiceStatus> => {
        if (service.role === 'job') return { name: service.name, role: service.role, state: 'job', detail: 'runs on demand (lab check)' };
        const record = state?.services[service.name];
        if (!record || !this.processes.isAlive(record.pid)) return { name: service.name, role: service.role, state: 'stopped', detail: record ? `pid ${record.pid} is gone` : undefined };
        const url = `http://${HOST}:${record.port}`;
        const healthy = await probe(`${url}${service.healthPath ?? '/'}`);
        return { name: service.name, role: service.role, state: healthy ? 'running' : 'unhealthy', url, pid: record.pid };
      }),
    );
  }

  async isUp(): Promise<boolean> {
    const state = this.record.read();
    return state !== undefined && Object.values(state.services).some((r) => this.processes.isAlive(r.pid));
  }

  url(service: string): URL {
    const port = this.record.require().ports[service];
    if (port === undefined) throw new EnvironmentError(`The lab has no running service "${service}".`, 'Run `lab status` to see the services.');
    return new URL(`http://${HOST}:${port}`);
  }

  serviceUrl(service: string): URL {
    return this.url(service);
  }

  async exec(service: string): Promise<JobResult> {
    throw new EnvironmentError(`Cannot run a command inside ${service}: on the local runtime services are plain processes.`, 'Use the Docker runtime for this lab: `lab start <lab> --runtime docker`.');
  }

  async runJob(name: string): Promise<JobResult> {
    const state = this.record.require();
    const service = this.lab.definition.services.find((s) => s.name === name && s.role === 'job');
    if (!service) throw new Error(`no job service "${name}"`);
    this.startLogSection(name);
    return this.processes.run({
      command: process.execPath,
      args: ['--import', TSX_LOADER, entryPath(service, this.paths.dir)],
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
    const base = Object.fromEntries(BASE_ENV.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!]));
    const own = service.env({ url, selfUrl: `http://${HOST}:${port}`, port, host: HOST, workspaceDir: this.paths.dir, secretsDir: this.paths.secrets, repoDir });
    return { ...base, ...own, HOST, PORT: String(port), LAB_RUN_ID: state.runId, NO_COLOR: '1' };
  }

  private longRunning(): ServiceDefinition[] {
    return this.services.filter((s) => s.role !== 'job');
  }

  private async logTail(service: string, lines = 15): Promise<string> {
    return (await this.logs(service)).trimEnd().split('\n').slice(-lines).join('\n');
  }

  private tailNote(service: string): string {
    const file = this.logFile(service);
    if (!existsSync(file)) return '';
    const tail = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-5).join('\n  ');
    return tail ? `\nIts log ends with:\n  ${tail}` : '';
  }

}

export async function probe(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}
