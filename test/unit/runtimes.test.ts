/**
 * Both runtimes against fakes: LocalRuntime with an in-memory process table and a clock that never waits;
 * DockerRuntime with a fake engine and compose. No process is spawned and no container started.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../src/core/errors.js';
import type { LoadedLab } from '../../src/core/lab-catalog.js';
import type { ServiceDefinition } from '../../src/core/lab-definition.js';
import { workspacePaths } from '../../src/core/paths.js';
import type { ComposeTool, ContainerEngine, ContainerSummary, SpawnRequest } from '../../src/core/ports.js';
import { DockerRuntime } from '../../src/runtimes/docker-runtime.js';
import { LocalRuntime } from '../../src/runtimes/local-runtime.js';
import { fakeEngine } from '../helpers/fake-engine.js';
import { fakeClock, fakeProcesses } from '../helpers/fake-processes.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const service = (
  name: string,
  role: ServiceDefinition['role'],
  more: Partial<ServiceDefinition> = {},
): ServiceDefinition => ({
  name,
  role,
  entry: `repo:src/services/${name}/main.ts`,
  env: ({ url }): Record<string, string> => (name === 'api' ? { INDEX_URL: url('index') } : {}),
  healthPath: '/health',
  ...more,
});

const lab = (services: ServiceDefinition[]): LoadedLab => ({
  dir: '/labs/demo',
  file: '/labs/demo/lab.ts',
  definition: {
    id: 'demo',
    title: 'Demo',
    summary: '',
    minutes: 1,
    runtimes: ['local', 'docker'],
    files: [],
    services,
    steps: [],
  },
});

const scratchPaths = () => {
  const paths = workspacePaths(mkdtempSync(path.join(tmpdir(), 'runtime-')), 'demo');
  for (const dir of [paths.dir, paths.meta, paths.logs]) mkdirSync(dir, { recursive: true });
  return paths;
};

/** A process table whose spawned "services" answer their health check (an HTTP server on the given PORT) unless told to die. */
function localWorld(dies: string[] = []) {
  const world = fakeProcesses([]);
  const spawned: SpawnRequest[] = [];
  let nextPid = 1000;
  world.control.spawnDetached = (request) => {
    spawned.push(request);
    const pid = nextPid++;
    const name = path.basename(path.dirname(request.args.at(-1)!));
    writeFileSync(request.logFile, `${name} starting\n${dies.includes(name) ? 'Error: cannot read config\n' : ''}`);
    if (!dies.includes(name)) {
      world.add({
        pid,
        startTime: String(pid),
        markers: {
          LAB_RUN_ID: request.env.LAB_RUN_ID!,
          LAB_WORKSPACE: request.env.LAB_WORKSPACE!,
          LAB_HOME: request.env.LAB_HOME!,
        },
      });
      const server = createServer((_req, res) => res.end('ok')).listen(Number(request.env.PORT), '127.0.0.1');
      servers.push(server);
    }
    return pid;
  };
  return { ...world, spawned };
}

describe('LocalRuntime (fake processes, fake clock)', () => {
  it('starts services in dependency order on free ports, passes their URLs, and records them', async () => {
    const world = localWorld();
    const paths = scratchPaths();
    const runtime = new LocalRuntime(
      lab([service('api', 'learner', { dependsOn: ['index'] }), service('index', 'lab')]),
      paths,
      world.control,
      fakeClock(),
    );
    const events: string[] = [];
    const problems = await runtime.up({ ports: {}, onProgress: (e) => events.push(`${e.service}:${e.phase}`) });
    expect(problems).toEqual([]);
    expect(events).toEqual(['index:starting', 'index:healthy', 'api:starting', 'api:healthy']);
    expect(world.spawned.map((r) => path.basename(path.dirname(r.args.at(-1)!)))).toEqual(['index', 'api']);
    expect(world.spawned[1]!.env.INDEX_URL).toBe(runtime.url('index').origin);
    expect(world.spawned.every((r) => r.env.HOST === '127.0.0.1' && r.env.LAB_WORKSPACE === paths.dir)).toBe(true);
    expect((await runtime.status()).map((s) => s.state)).toEqual(['running', 'running']);
    expect(await runtime.isUp()).toBe(true);
    expect(JSON.parse(readFileSync(paths.runtime, 'utf8')).services.index.pid).toBe(1000);
  });

  it('keeps healthy services on a second start, and stops every one of them on down', async () => {
    const world = localWorld();
    const paths = scratchPaths();
    const runtime = new LocalRuntime(lab([service('index', 'lab')]), paths, world.control, fakeClock());
    await runtime.up({ ports: {} });
    const events: string[] = [];
    await runtime.up({ ports: {}, onProgress: (e) => events.push(e.phase) });
    expect(events).toEqual(['kept']);
    expect(world.spawned).toHaveLength(1);
    const down = await runtime.down();
    expect(down).toEqual({ stopped: ['index (pid 1000)'], left: [] });
    expect(world.signals).toContainEqual({ target: 1000, group: true, signal: 'SIGTERM' });
    expect(existsSync(paths.runtime)).toBe(false);
  });

  it('reports a learner service that exits during startup with its log, and fails on a lab service that does', async () => {
    const paths = scratchPaths();
    const learner = new LocalRuntime(
      lab([service('api', 'learner', { env: () => ({}) })]),
      paths,
      localWorld(['api']).control,
      fakeClock(),
    );
    const [problem] = await learner.up({ ports: {} });
    expect(problem).toMatchObject({ service: 'api', message: 'api exited during startup' });
    expect(problem!.logTail).toContain('Error: cannot read config');
    const labService = new LocalRuntime(
      lab([service('index', 'lab')]),
      scratchPaths(),
      localWorld(['index']).control,
      fakeClock(),
    );
    await expect(labService.up({ ports: {} })).rejects.toThrow(EnvironmentError);
  });

  it('never signals a recorded pid that now belongs to another process', async () => {
    const world = localWorld();
    const paths = scratchPaths();
    const runtime = new LocalRuntime(lab([service('index', 'lab')]), paths, world.control, fakeClock());
    await runtime.up({ ports: {} });
    // The service died; its pid went to an unrelated program (another start time, no markers).
    world.table.delete(1000);
    world.add({ pid: 1000, startTime: 'other' });
    expect(await runtime.down()).toEqual({ stopped: [], left: [] });
    expect(world.signals).toEqual([]);
    expect(world.alive(1000)).toBe(true);
  });
});

/**
 * An engine whose containers are what compose "started"; `unhealthy` services fail their healthcheck, `starting`
 * ones never leave Docker's "starting" (their published port is all that can say they are ready).
 */
function dockerWorld(unhealthy: string[] = [], starting: string[] = []) {
  const containers: ContainerSummary[] = [];
  const calls: Array<{ args: string[]; env: Record<string, string> }> = [];
  const compose: ComposeTool = {
    flavour: 'v1',
    version: '1.29.2',
    run: async (args, { env }) => {
      calls.push({ args, env });
      const command = args[4];
      const project = args[1]!;
      if (command === 'up') {
        for (const name of args.slice(5).filter((a) => !a.startsWith('-'))) {
          if (containers.some((c) => c.service === name)) continue;
          const health = unhealthy.includes(name) ? 'unhealthy' : starting.includes(name) ? 'starting' : 'healthy';
          containers.push({
            id: `id-${name}`,
            name: `${project}-${name}-1`,
            service: name,
            state: 'running',
            health,
            labels: { 'com.docker.compose.project': project },
          });
        }
      }
      return { exitCode: 0, output: '' };
    },
  };
  const removed: Array<{ label: string; stopSeconds: number }> = [];
  const engine: ContainerEngine = {
    ...fakeEngine(),
    containers: async () => [...containers],
    removeAll: async (label, { stopSeconds }) => {
      removed.push({ label, stopSeconds });
      containers.splice(0);
      return [];
    },
    logs: async (id) => `log of ${id}\nlast line`,
  };
  return { compose, engine, containers, calls, removed };
}

const IMAGES = { LAB_SERVICES_IMAGE: 'ai-infra-labs/services:test', LAB_OPA_IMAGE: 'openpolicyagent/opa:test' };

describe('DockerRuntime (fake engine and compose)', () => {
  it('brings the services up through compose with every image and port, then waits until they are healthy', async () => {
    const world = dockerWorld();
    const paths = scratchPaths();
    const runtime = new DockerRuntime(
      lab([service('index', 'lab'), service('api', 'learner', { dependsOn: ['index'] })]),
      paths,
      world.engine,
      world.compose,
      fakeClock(),
      IMAGES,
    );
    const events: string[] = [];
    expect(await runtime.up({ ports: {}, onProgress: (e) => events.push(`${e.service}:${e.phase}`) })).toEqual([]);
    const [up] = world.calls;
    expect(up!.args.slice(4)).toEqual(['up', '-d', '--remove-orphans', 'index', 'api']);
    expect(up!.env).toMatchObject({
      LAB_SERVICES_IMAGE: 'ai-infra-labs/services:test',
      LAB_OPA_IMAGE: 'openpolicyagent/opa:test',
      LAB_WORKSPACE: paths.dir,
    });
    expect(Number(up!.env.LAB_PORT_API)).toBe(runtime.url('api').port === '' ? NaN : Number(runtime.url('api').port));
    expect(events).toEqual(['index:starting', 'api:starting', 'index:healthy', 'api:healthy']);
    expect(runtime.serviceUrl('index').href).toBe('http://index:8080/');
    expect(readFileSync(path.join(paths.meta, 'compose', 'api.env'), 'utf8')).toContain('INDEX_URL=http://index:8080');
    expect((await runtime.status()).map((s) => s.state)).toEqual(['running', 'running']);
  });

  it('returns an unhealthy learner service as a problem with its log, and refuses an unhealthy lab service', async () => {
    const learner = dockerWorld(['api']);
    const runtime = new DockerRuntime(
      lab([service('api', 'learner')]),
      scratchPaths(),
      learner.engine,
      learner.compose,
      fakeClock(),
      IMAGES,
    );
    expect(await runtime.up({ ports: {} })).toEqual([
      { service: 'api', message: 'api is unhealthy', logTail: 'log of id-api\nlast line' },
    ]);
    const labWorld = dockerWorld(['index']);
    const labRuntime = new DockerRuntime(
      lab([service('index', 'lab')]),
      scratchPaths(),
      labWorld.engine,
      labWorld.compose,
      fakeClock(),
      IMAGES,
    );
    await expect(labRuntime.up({ ports: {} })).rejects.toThrow('Service index did not start: index is unhealthy');
  });

  it('counts a service Docker still calls starting as ready once its published port answers the health path', async () => {
    const world = dockerWorld([], ['api']);
    const runtime = new DockerRuntime(
      lab([service('api', 'learner')]),
      scratchPaths(),
      world.engine,
      world.compose,
      fakeClock(),
      IMAGES,
    );
    // What the container would publish: an HTTP server on the port compose was given for it.
    const compose = world.compose.run;
    world.compose.run = async (args, options) => {
      if (args[4] === 'up') {
        const server = createServer((req, res) => res.writeHead(req.url === '/health' ? 200 : 404).end());
        servers.push(server);
        await new Promise<void>((resolve) => server.listen(Number(options.env.LAB_PORT_API), '127.0.0.1', resolve));
      }
      return compose(args, options);
    };
    expect(await runtime.up({ ports: {} })).toEqual([]);
    // Without the answer it waits out the deadline on Docker's verdict, as before.
    const silent = dockerWorld([], ['api']);
    const waiting = new DockerRuntime(
      lab([service('api', 'learner')]),
      scratchPaths(),
      silent.engine,
      silent.compose,
      fakeClock(),
      IMAGES,
    );
    expect(await waiting.up({ ports: {} })).toEqual([
      expect.objectContaining({ service: 'api', message: expect.stringMatching(/did not become healthy/) }),
    ]);
  });

  it('does nothing on refresh when nothing changed, and takes everything down by project on down', async () => {
    const world = dockerWorld();
    const paths = scratchPaths();
    const runtime = new DockerRuntime(
      lab([service('index', 'lab')]),
      paths,
      world.engine,
      world.compose,
      fakeClock(),
      IMAGES,
    );
    await runtime.up({ ports: {} });
    const events: string[] = [];
    expect(await runtime.refresh({ onProgress: (e) => events.push(e.phase) })).toEqual([]);
    expect(events).toEqual(['kept']);
    expect(world.calls).toHaveLength(1);
    expect(await runtime.down()).toEqual({
      stopped: [expect.stringMatching(/^container lab-demo-[0-9a-f]{8}-index-1$/)],
      left: [],
    });
    // Taken down by the project's label through the engine, not by compose (which needs the file's variables).
    expect(world.removed).toEqual([
      { label: expect.stringMatching(/^com\.docker\.compose\.project=lab-demo-[0-9a-f]{8}$/), stopSeconds: 5 },
    ]);
    expect(world.calls).toHaveLength(1);
    expect(existsSync(paths.runtime)).toBe(false);
  });
});
