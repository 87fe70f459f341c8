/**
 * What the Docker e2e tests of a running lab share: its compose project's service containers, a command run in
 * one of them, and just enough of a CheckContext to make probe calls from a test as the checks make them.
 */
import path from 'node:path';
import type { CheckContext } from '../../src/core/lab-definition.js';
import { composeProject } from '../../src/runtimes/docker-runtime.js';
import { systemClock } from '../../src/adapters/system-clock.js';
import { runtimeRecord } from './cli.js';
import { engine } from './docker-prerequisites.js';
import type { ImageSpec } from '../../src/images/catalog.js';

/** Every image the labs' stacks run (lab 2 runs them all). */
export const STACK_IMAGES: Array<ImageSpec['key']> = ['node', 'services', 'opa', 'spire-server', 'spire-agent'];

export interface RunningLab {
  project: string;
  /** The service's long-running container (never a one-off job run). */
  container(service: string): Promise<{ id: string; service: string; labels: Record<string, string> }>;
  /** Every long-running container of the project. */
  containers(): Promise<Array<{ id: string; service: string; labels: Record<string, string> }>>;
  execIn(service: string, argv: string[]): ReturnType<typeof engine.exec>;
  probeContext(): CheckContext;
}

export function runningLab(home: string, lab: string): RunningLab {
  const project = composeProject(lab, home);
  const workspace = path.join(home, lab);
  const containers = async () =>
    (await engine.containers(`com.docker.compose.project=${project}`)).filter(
      (c) => c.labels['com.docker.compose.oneoff'] !== 'True',
    );
  const container = async (service: string) => {
    const found = (await containers()).find((c) => c.service === service);
    if (!found) throw new Error(`no ${service} container in ${project}`);
    return found;
  };
  return {
    project,
    container,
    containers,
    execIn: async (service, argv) => engine.exec((await container(service)).id, argv),
    probeContext: () => ({
      labDir: '',
      repoDir: '',
      workspaceDir: workspace,
      secretsDir: path.join(workspace, '.lab', 'secrets'),
      url: (service) => new URL(`http://127.0.0.1:${runtimeRecord(home, lab).ports[service]}`),
      serviceUrl: (service) => new URL(`http://${service}:8080`),
      reachable: (url) => new URL(url),
      runJob: () => Promise.reject(new Error('not in this test')),
      logs: async () => '',
      exec: async (service, argv, options) => engine.exec((await container(service)).id, argv, options),
      clock: systemClock,
      signal: new AbortController().signal,
    }),
  };
}
