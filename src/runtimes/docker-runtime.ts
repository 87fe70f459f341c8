/**
 * The Docker compose runtime: the lab's compose file (compose/<lab>.yml) run as project lab-<lab>, every
 * published port on 127.0.0.1, the workspace mounted at /app/workspace/<lab>. compose starts and stops;
 * the engine API reports health, logs and what is left after a reset.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dockerRecordSchema, freshRun, RuntimeRecord, type DockerRecord } from './runtime-record.js';
import { EnvironmentError } from '../core/errors.js';
import type { LoadedLab } from '../core/lab-catalog.js';
import { runningServices, type ExecOptions, type JobResult, type ServiceDefinition } from '../core/lab-definition.js';
import { repoDir, type WorkspacePaths } from '../core/paths.js';
import type { Clock, ComposeTool, ContainerEngine, ContainerSummary } from '../core/ports.js';
import { containerUser, handOverTree } from './container-user.js';
import { logSectionMarker } from '../core/log-sections.js';
import { choosePort } from './port-check.js';
import { probe } from './http-probe.js';
import type { DownResult, Runtime, ServiceProblem, ServiceStatus, StartProgress, UpOptions } from '../core/runtime.js';
import { fingerprint, startOrder } from './service-graph.js';
import { machineTimeout } from '../core/timeouts.js';
import { lastLines } from '../core/text.js';

type DockerState = DockerRecord;

const CONTAINER_PORT = 8080;
const HEALTH_TIMEOUT_MS = machineTimeout(60_000);
const JOB_TIMEOUT_MS = machineTimeout(120_000);
/** What compose down gives a container between SIGTERM and SIGKILL here (the lab's services stop in well under it). */
const STOP_SECONDS = 5;

/** One compose project per lab and home: a self-test in a scratch home never touches a learner's running lab. */
export function composeProject(labId: string, home: string): string {
  return `lab-${labId}-${createHash('sha256').update(home).digest('hex').slice(0, 8)}`;
}

export class DockerRuntime implements Runtime {
  readonly kind = 'docker' as const;
  private readonly services: ServiceDefinition[];
  private readonly record: RuntimeRecord<DockerState>;
  private readonly project: string;
  private readonly mount: string;
  private readonly user = containerUser();

  constructor(
    private readonly lab: LoadedLab,
    private readonly paths: WorkspacePaths,
    private readonly engine: ContainerEngine,
    private readonly compose: ComposeTool,
    private readonly clock: Clock,
    /** Every image of the lab by its variable (LAB_OPA_IMAGE=…), as selectImage (src/images/catalog.ts) chose it. */
    private readonly images: Record<string, string>,
    notice: (message: string) => void = () => undefined,
  ) {
    this.services = startOrder(lab.definition.services);
    this.record = new RuntimeRecord<DockerState>({
      file: paths.runtime,
      kind: 'docker',
      labId: lab.definition.id,
      schema: dockerRecordSchema,
      clock,
      notice,
    });
    this.project = composeProject(lab.definition.id, paths.home);
    this.mount = `/app/workspace/${lab.definition.id}`;
  }

  static composeFile(labId: string): string {
    return path.join(repoDir, 'compose', `${labId}.yml`);
  }

  async up({ ports, onProgress }: UpOptions): Promise<ServiceProblem[]> {
    const state = this.record.read() ?? { kind: 'docker', ...freshRun(this.clock), fingerprints: {} };
    const running = await this.byService();
    for (const service of this.published()) {
      const own = running.get(service.name)?.state === 'running' ? state.ports[service.name] : undefined;
      const wanted = ports[service.name];
      if (own !== undefined && (wanted === undefined || wanted === own)) continue;
      state.ports[service.name] = await choosePort(
        service.name,
        wanted ?? state.ports[service.name],
        wanted !== undefined,
      );
    }
    this.record.write(state);
    this.writeEnvFiles(state);
    for (const s of this.longRunning()) onProgress?.({ service: s.name, phase: 'starting' });
    await this.composeOrThrow(
      ['up', '-d', '--remove-orphans', ...this.longRunning().map((s) => s.name)],
      state,
      'start the lab',
    );
    const restart = this.longRunning().filter(
      (s) =>
        s.watch &&
        state.fingerprints[s.name] !== undefined &&
        state.fingerprints[s.name] !== this.fingerprintOf(state, s),
    );
    if (restart.length > 0)
      await this.composeOrThrow(
        ['restart', '-t', '3', ...restart.map((s) => s.name)],
        state,
        'restart changed services',
      );
    return this.settle(state, onProgress);
  }

  async refresh({ onProgress }: { onProgress?: StartProgress } = {}): Promise<ServiceProblem[]> {
    const state = this.record.require();
    const containers = await this.byService();
    for (const service of this.longRunning()) {
      const container = containers.get(service.name);
      if (service.role === 'lab' && container?.state !== 'running') {
        throw new EnvironmentError(
          `Service ${service.name} is not running (container ${container ? container.state : 'missing'}): it was stopped or removed outside the lab.`,
          'Run `lab start` to restart it (your work is kept), then run `lab check` again.',
        );
      }
    }
    const stale = this.longRunning().filter(
      (s) => containers.get(s.name)?.state !== 'running' || state.fingerprints[s.name] !== this.fingerprintOf(state, s),
    );
    if (stale.length === 0) {
      for (const s of this.longRunning()) onProgress?.({ service: s.name, phase: 'kept' });
      return [];
    }
    this.writeEnvFiles(state);
    await this.composeOrThrow(['up', '-d', '--no-deps', ...stale.map((s) => s.name)], state, 'update services');
    const codeChanged = stale.filter((s) => containers.get(s.name)?.state === 'running');
    if (codeChanged.length > 0)
      await this.composeOrThrow(
        ['restart', '-t', '3', ...codeChanged.map((s) => s.name)],
        state,
        'restart changed services',
      );
    return this.settle(state, onProgress);
  }

  /**
   * A service still "starting" for Docker may already answer its health path: Docker runs the healthcheck once
   * an interval, so its verdict trails readiness by up to a second. Asking the service itself through its
   * published 127.0.0.1 port is the same check, sooner (and proves the port is published). Plain-HTTP services
   * only: an mTLS port answers no anonymous request, and Docker's own healthcheck speaks for it.
   */
  private async answers(state: DockerState, name: string): Promise<boolean> {
    const service = this.published().find((s) => s.name === name);
    const port = state.ports[name];
    if (!service?.healthPath || service.tls || port === undefined) return false;
    return probe(`http://127.0.0.1:${port}${service.healthPath}`, 500);
  }

  /** Waits until every service is healthy (or has failed), then records what they were started from. */
  private async settle(state: DockerState, onProgress?: StartProgress): Promise<ServiceProblem[]> {
    const problems: ServiceProblem[] = [];
    const deadline = this.clock.now().getTime() + HEALTH_TIMEOUT_MS;
    const pending = new Set(this.longRunning().map((s) => s.name));
    while (pending.size > 0) {
      const containers = await this.byService();
      for (const name of [...pending]) {
        const c = containers.get(name);
        // restarting: it has exited at least once already (a crash loop would otherwise wait out the deadline).
        const failed =
          !c || c.state === 'exited' || c.state === 'dead' || c.state === 'restarting' || c.health === 'unhealthy';
        if (
          c?.state === 'running' &&
          (c.health === 'healthy' || c.health === undefined || (await this.answers(state, name)))
        ) {
          pending.delete(name);
          onProgress?.({ service: name, phase: 'healthy' });
        } else if (failed || this.clock.now().getTime() > deadline) {
          pending.delete(name);
          const message = failed
            ? `${name} ${c ? `is ${c.health ?? c.state}` : 'has no container'}`
            : `${name} did not become healthy within ${HEALTH_TIMEOUT_MS / 1000} s`;
          problems.push({ service: name, message, logTail: lastLines(await this.logs(name), 15).join('\n') });
          onProgress?.({ service: name, phase: 'failed', detail: message });
        }
      }
      if (pending.size > 0) await this.clock.sleep(100);
    }
    for (const s of this.longRunning()) state.fingerprints[s.name] = this.fingerprintOf(state, s);
    this.record.write(state);
    const labProblem = problems.find((p) => this.longRunning().find((s) => s.name === p.service)?.role === 'lab');
    if (labProblem) {
      throw new EnvironmentError(
        `Service ${labProblem.service} did not start: ${labProblem.message}\n${labProblem.logTail}`,
        `See \`lab logs ${labProblem.service}\`; \`lab doctor\` checks the images and the engine.`,
      );
    }
    return problems;
  }

  async status(): Promise<ServiceStatus[]> {
    const state = this.record.read();
    const containers = state ? await this.byService() : new Map<string, ContainerSummary>();
    return this.lab.definition.services.map((service): ServiceStatus => {
      if (service.role === 'job')
        return { name: service.name, role: service.role, state: 'job', detail: 'runs on demand (lab check)' };
      const c = containers.get(service.name);
      if (c?.state !== 'running')
        return {
          name: service.name,
          role: service.role,
          state: 'stopped',
          detail: c ? `container ${c.state}` : undefined,
        };
      // An mTLS service's published port speaks TLS only: its address is https://, never http://.
      const url =
        service.entry === undefined ? undefined : `${service.tls ? 'https' : 'http'}://${this.url(service.name).host}`;
      return {
        name: service.name,
        role: service.role,
        state: c.health === 'unhealthy' || c.health === 'starting' ? 'unhealthy' : 'running',
        url,
        detail: c.name,
      };
    });
  }

  async isUp(): Promise<boolean> {
    if (!(await this.engine.ping())) return false;
    return [...(await this.byService()).values()].some((c) => c.state === 'running');
  }

  url(service: string): URL {
    return this.record.hostUrl(service);
  }

  serviceUrl(service: string): URL {
    return new URL(`http://${service}:${CONTAINER_PORT}`);
  }

  async runJob(name: string): Promise<JobResult> {
    const state = this.record.require();
    this.writeEnvFiles(state);
    handOverTree(this.paths.dir, this.user);
    const result = await this.compose.run(this.composeArgs(['run', '--rm', '-T', name]), {
      env: this.composeEnv(state),
      timeoutMs: JOB_TIMEOUT_MS,
    });
    mkdirSync(this.paths.logs, { recursive: true });
    // One run per file, begun by its section marker (as the local runtime's job logs are).
    writeFileSync(this.logFile(name), `${logSectionMarker(name, this.clock.now())}${result.output}\n`);
    return result;
  }

  async probeJob(name: string, argv: string[]): Promise<JobResult> {
    const state = this.record.require();
    const service = this.services.find((s) => s.name === name && s.role === 'job');
    if (!service || argv.length === 0) throw new Error(`no job service "${name}" to probe, or no command`);
    this.writeEnvFiles(state);
    handOverTree(this.paths.dir, this.user);
    return this.compose.run(this.composeArgs(['run', '--rm', '-T', '--entrypoint', argv[0]!, name, ...argv.slice(1)]), {
      env: this.composeEnv(state),
      timeoutMs: JOB_TIMEOUT_MS,
    });
  }

  async exec(service: string, argv: string[], options: ExecOptions = {}): Promise<JobResult> {
    const container = (await this.byService()).get(service);
    if (container?.state !== 'running') {
      throw new EnvironmentError(
        `Service ${service} is not running (container ${container ? container.state : 'missing'}).`,
        `Run \`lab start\` to restart it, then try again; \`lab logs ${service}\` shows why it stopped.`,
      );
    }
    return this.engine.exec(container.id, argv, options);
  }

  async logs(service: string): Promise<string> {
    const definition = this.lab.definition.services.find((s) => s.name === service);
    if (definition?.role === 'job')
      return existsSync(this.logFile(service)) ? readFileSync(this.logFile(service), 'utf8') : '';
    const container = (await this.byService()).get(service);
    return container ? this.engine.logs(container.id) : '';
  }

  private logFile(service: string): string {
    return path.join(this.paths.logs, `${service}.log`);
  }

  /**
   * Takes the project down by its compose label through the engine API, as `compose down -v --remove-orphans`
   * would, without compose reading the file (it needs every env file and port variable even to take a project
   * down) or Python's start-up. So this works with runtime.json corrupt or deleted and with the workspace gone.
   * What is left is found by label too.
   */
  async down(): Promise<DownResult> {
    const label = `com.docker.compose.project=${this.project}`;
    const before = await this.engine.containers(label);
    if (!this.record.read() && before.length === 0) return { stopped: [], left: [] };
    const refused = await this.engine.removeAll(label, { stopSeconds: STOP_SECONDS });
    // The three sweeps are independent: asked at once, they cost one engine round trip instead of three.
    const [containers, networks, volumes] = await Promise.all([
      this.engine.containers(label),
      this.engine.networks(label),
      this.engine.volumes(label),
    ]);
    const left = [
      ...containers.map((c) => `container ${c.name}`),
      ...networks.map((n) => `network ${n}`),
      ...volumes.map((v) => `volume ${v}`),
    ];
    if (left.length > 0 && refused.length > 0) left.push(`(the engine said: ${refused.slice(0, 2).join('; ')})`);
    if (left.length === 0) this.record.remove();
    return { stopped: before.map((c) => `container ${c.name}`).filter((c) => !left.includes(c)), left };
  }

  private async byService(): Promise<Map<string, ContainerSummary>> {
    const containers = await this.engine.containers(`com.docker.compose.project=${this.project}`);
    return new Map(
      containers.filter((c) => c.labels['com.docker.compose.oneoff'] !== 'True').map((c) => [c.service, c]),
    );
  }

  private longRunning(): ServiceDefinition[] {
    return runningServices({ services: this.services });
  }

  /** Services with a host port: the lab's own (Node) services; image-only ones (SPIRE, OPA) stay on the lab network. */
  private published(): ServiceDefinition[] {
    return this.longRunning().filter((s) => s.entry !== undefined);
  }

  private serviceEnv(state: DockerState, service: ServiceDefinition): Record<string, string> {
    if (service.entry === undefined) return {};
    const own = service.env({
      url: (name) => this.serviceUrl(name).origin,
      selfUrl: this.serviceUrl(service.name).origin,
      port: CONTAINER_PORT,
      host: '0.0.0.0',
      workspaceDir: this.mount,
      secretsDir: path.posix.join(this.mount, '.lab', 'secrets'),
      repoDir: '/app',
    });
    // LAB_SERVICE_NAME turns on timestamps and a start separator in the log (run-service.ts); jobs stay unstamped.
    const stamp: Record<string, string> = service.role === 'job' ? {} : { LAB_SERVICE_NAME: service.name };
    return { ...own, HOST: '0.0.0.0', PORT: String(CONTAINER_PORT), LAB_RUN_ID: state.runId, NO_COLOR: '1', ...stamp };
  }

  private fingerprintOf(state: DockerState, service: ServiceDefinition): string {
    return fingerprint(
      { ...this.serviceEnv(state, service), IMAGE: this.images.LAB_SERVICES_IMAGE ?? '' },
      this.paths.dir,
      service.watch,
    );
  }

  private writeEnvFiles(state: DockerState): void {
    const dir = path.join(this.paths.meta, 'compose');
    mkdirSync(dir, { recursive: true });
    for (const service of this.services.filter((s) => s.entry !== undefined)) {
      const lines = Object.entries(this.serviceEnv(state, service)).map(([k, v]) => `${k}=${v.replace(/\n/g, ' ')}`);
      writeFileSync(path.join(dir, `${service.name}.env`), `${lines.join('\n')}\n`);
    }
  }

  private composeArgs(args: string[]): string[] {
    return ['-p', this.project, '-f', DockerRuntime.composeFile(this.lab.definition.id), ...args];
  }

  private composeEnv(state: DockerState): Record<string, string> {
    const pass = Object.fromEntries(
      ['PATH', 'HOME', 'DOCKER_HOST', 'DOCKER_CONFIG', 'DOCKER_CONTEXT']
        .filter((k) => process.env[k])
        .map((k) => [k, process.env[k]!]),
    );
    const ports = Object.fromEntries(
      Object.entries(state.ports).map(([name, port]) => [
        `LAB_PORT_${name.toUpperCase().replace(/-/g, '_')}`,
        String(port),
      ]),
    );
    const dockerHost = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
    return {
      ...pass,
      ...ports,
      // Every image as a variable: the compose files name none themselves.
      ...this.images,
      LAB_REPO: repoDir,
      // SPIRE's docker workload attestor asks the engine who a caller is: it needs the engine's socket as a file.
      LAB_DOCKER_SOCKET: dockerHost.startsWith('unix://') ? dockerHost.slice('unix://'.length) : '/var/run/docker.sock',
      LAB_WORKSPACE: this.paths.dir,
      LAB_WORKSPACE_MOUNT: this.mount,
      LAB_ENV_DIR: path.join(this.paths.meta, 'compose'),
      LAB_UID: String(this.user.uid),
      LAB_GID: String(this.user.gid),
    };
  }

  private async composeOrThrow(args: string[], state: DockerState, what: string): Promise<void> {
    handOverTree(this.paths.dir, this.user);
    const result = await this.compose.run(this.composeArgs(args), { env: this.composeEnv(state) });
    if (result.exitCode === 0) return;
    const tail = lastLines(result.output, 8).join('\n');
    const missingImage = /pull access denied|not found|No such image|manifest unknown|repository does not exist/i.test(
      result.output,
    );
    throw new EnvironmentError(
      `docker compose could not ${what}:\n${tail}`,
      missingImage
        ? 'An image is missing: run `lab images build-local` (or `lab images load FILE` in a classroom), then start again.'
        : 'See the output above; `lab doctor` checks the engine, compose and images.',
    );
  }
}
