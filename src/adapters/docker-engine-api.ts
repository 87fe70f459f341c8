/**
 * The container engine over the Docker Engine API: plain HTTP on the engine's socket (DOCKER_HOST, else
 * /var/run/docker.sock), with Node's own http module. A client library (dockerode, with ssh2 and protobuf behind
 * it) cost 150-400 ms to load on every Docker command; the dozen calls the runner makes need none of it.
 */
import http, { type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { EnvironmentError } from '../core/errors.js';
import type { ContainerEngine, ContainerSummary } from '../core/ports.js';

/** Turns "the socket is not there / refuses" into the message a learner can act on. */
export function engineUnavailable(cause: unknown): EnvironmentError {
  return new EnvironmentError(
    `The Docker engine is not answering (${(cause as Error).message ?? String(cause)}).`,
    'Start Docker (Docker Desktop, `sudo systemctl start docker`, or `sudo dockerd &`), then run the command again; or use the local runtime: --runtime local.',
    { cause },
  );
}

/** An answer of the engine other than 2xx: its status and message ("No such container: …"). */
export class EngineApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

type Endpoint = { socketPath: string } | { host: string; port: number };

/** Where the engine listens: DOCKER_HOST as the docker CLI reads it (unix:// or tcp:// without TLS). */
export function engineEndpoint(dockerHost = process.env.DOCKER_HOST): Endpoint {
  if (!dockerHost) return { socketPath: '/var/run/docker.sock' };
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  const tcp = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(dockerHost);
  if (tcp) return { host: tcp[1]!, port: Number(tcp[2]) };
  throw new EnvironmentError(
    `DOCKER_HOST=${JSON.stringify(dockerHost)} is not a unix:// socket or a tcp://host:port address.`,
    'Set DOCKER_HOST to unix:///var/run/docker.sock (or unset it), as `docker context inspect` shows.',
  );
}

const isConnectionError = (error: unknown) =>
  !(error instanceof EngineApiError) &&
  /ECONNREFUSED|ENOENT|EACCES|ECONNRESET|socket hang up|connect/.test(String((error as Error)?.message ?? error));

interface Call {
  method?: 'GET' | 'POST' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | object>;
  body?: unknown;
  timeoutMs?: number;
}

function pathOf({ path, query = {} }: Call): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) params.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

function readAll(response: IncomingMessage | Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks)));
    response.on('error', reject);
  });
}

export function createDockerEngine(env: { DOCKER_HOST?: string } = process.env): ContainerEngine {
  let where: Endpoint | undefined;
  /** One request; resolves with the whole body of a 2xx answer, or the socket of an upgraded (hijacked) one. */
  const request = (call: Call, upgrade?: { input: string }): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      where ??= engineEndpoint(env.DOCKER_HOST);
      const payload = call.body === undefined ? undefined : JSON.stringify(call.body);
      let upgraded: Socket | undefined;
      // A deadline for the whole exchange (an exec's output may trickle for longer than any idle timeout).
      const timer = setTimeout(() => {
        const error = new Error(`the engine did not answer ${call.path} in time`);
        req.destroy(error);
        upgraded?.destroy(error);
      }, call.timeoutMs ?? 60_000);
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T) => {
          clearTimeout(timer);
          fn(value);
        };
      const done = settle(resolve);
      const failed = settle(reject);
      // No keep-alive pool: a connection on the local socket costs nothing, and none outlives its request.
      const req = http.request({
        ...where,
        agent: false,
        method: call.method ?? 'GET',
        path: pathOf(call),
        headers: {
          ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...(upgrade ? { Connection: 'Upgrade', Upgrade: 'tcp' } : {}),
        },
      });
      req.on('error', failed);
      // Exec with stdin: the engine switches protocols and the connection becomes the process's stdio.
      req.on('upgrade', (_response, socket, head: Buffer) => {
        upgraded = socket;
        socket.end(upgrade!.input);
        // head: what of the stream arrived with the switch itself.
        readAll(socket).then((rest) => done(Buffer.concat([head, rest])), failed);
      });
      req.on('response', (response) => {
        readAll(response).then((body) => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) return done(body);
          let message = body.toString('utf8').trim();
          try {
            message = (JSON.parse(message) as { message?: string }).message ?? message;
          } catch {
            /* not JSON: the text as it came */
          }
          failed(new EngineApiError(status, `${call.path}: ${status} ${message}`));
        }, failed);
      });
      req.end(payload);
    });
  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw isConnectionError(error) ? engineUnavailable(error) : error;
    }
  };
  const json = async <T>(call: Call): Promise<T> => {
    const body = await request(call);
    return (body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined) as T;
  };
  const labelled = (label: string) => ({ filters: { label: [label] } });
  const listContainers = (label: string) =>
    json<Array<{ Id: string; Names: string[]; State: string; Status: string; Labels: Record<string, string> }>>({
      path: '/containers/json',
      query: { all: true, ...labelled(label) },
    });
  const listNetworks = (label: string) =>
    json<Array<{ Id: string; Name: string }>>({ path: '/networks', query: labelled(label) });
  const listVolumes = async (label: string) =>
    (await json<{ Volumes: Array<{ Name: string }> | null }>({ path: '/volumes', query: labelled(label) })).Volumes ??
    [];

  return {
    async ping() {
      try {
        return (await request({ path: '/_ping', timeoutMs: 1_500 })).toString('utf8') === 'OK';
      } catch {
        return false;
      }
    },
    version: () =>
      guard(async () => {
        const v = await json<{ Version: string; ApiVersion: string }>({ path: '/version' });
        return { server: v.Version, api: v.ApiVersion };
      }),
    containers: (label) =>
      guard(async () =>
        (await listContainers(label)).map(
          (c): ContainerSummary => ({
            id: c.Id,
            name: (c.Names[0] ?? '').replace(/^\//, ''),
            service: c.Labels['com.docker.compose.service'] ?? '',
            state: c.State,
            health: /\((healthy|unhealthy|health: starting)\)/.exec(c.Status)?.[1]?.replace('health: ', ''),
            labels: c.Labels,
          }),
        ),
      ),
    networks: (label) => guard(async () => (await listNetworks(label)).map((n) => n.Name)),
    volumes: (label) => guard(async () => (await listVolumes(label)).map((v) => v.Name)),
    removeAll: (label, { stopSeconds }) =>
      guard(async () => {
        const refused: string[] = [];
        // 304: already stopped; 404: already gone; 409: another run is removing it. The caller's sweep after
        // this sees whatever is really left, so these are not errors here.
        const unless = (what: string) => (error: unknown) => {
          if (!(error instanceof EngineApiError && [304, 404, 409].includes(error.statusCode)))
            refused.push(`${what}: ${(error as Error).message}`);
        };
        // In parallel, as compose does: each container waits out its own stop timeout, not the sum of them all.
        await Promise.all(
          (await listContainers(label)).map(async (c) => {
            const name = `container ${(c.Names[0] ?? c.Id).replace(/^\//, '')}`;
            const timeoutMs = (stopSeconds + 30) * 1000;
            if (c.State === 'running')
              await request({
                method: 'POST',
                path: `/containers/${c.Id}/stop`,
                query: { t: stopSeconds },
                timeoutMs,
              }).catch(unless(name));
            await request({ method: 'DELETE', path: `/containers/${c.Id}`, query: { v: true, force: true } }).catch(
              unless(name),
            );
          }),
        );
        // Networks and volumes only once no container holds them.
        const [networks, volumes] = await Promise.all([listNetworks(label), listVolumes(label)]);
        await Promise.all([
          ...networks.map((n) =>
            request({ method: 'DELETE', path: `/networks/${n.Id}` }).catch(unless(`network ${n.Name}`)),
          ),
          ...volumes.map((v) =>
            request({ method: 'DELETE', path: `/volumes/${encodeURIComponent(v.Name)}` }).catch(
              unless(`volume ${v.Name}`),
            ),
          ),
        ]);
        return refused;
      }),
    logs: (id) =>
      guard(async () =>
        demux(await request({ path: `/containers/${id}/logs`, query: { stdout: true, stderr: true } })),
      ),
    exec: (id, argv, { input, timeoutMs = 60_000 } = {}) =>
      guard(async () => {
        const stdin = input !== undefined;
        const { Id } = await json<{ Id: string }>({
          method: 'POST',
          path: `/containers/${id}/exec`,
          body: { Cmd: argv, AttachStdout: true, AttachStderr: true, AttachStdin: stdin },
        });
        const start: Call = {
          method: 'POST',
          path: `/exec/${Id}/start`,
          body: { Detach: false, Tty: false },
          timeoutMs,
        };
        const output = await request(start, stdin ? { input } : undefined).catch((error: Error) => {
          throw /in time/.test(error.message)
            ? new Error(`${argv[0]} did not finish within ${timeoutMs / 1000} s`)
            : error;
        });
        const { ExitCode } = await json<{ ExitCode: number | null }>({ path: `/exec/${Id}/json` });
        return { exitCode: ExitCode ?? 1, output: demux(output) };
      }),
    image: (ref) =>
      guard(async () => {
        // The reference goes into the request path as the engine's router expects it (slashes and all), so
        // anything that is not an image reference is no image here, never a path of another endpoint.
        if (!/^[\w][\w.\-/:@]*$/.test(ref) || ref.includes('..')) return undefined;
        try {
          const inspected = await json<{ Config?: { Labels?: Record<string, string> | null } }>({
            path: `/images/${ref}/json`,
          });
          return inspected.Config?.Labels ?? {};
        } catch (error) {
          if (error instanceof EngineApiError && error.statusCode === 404) return undefined;
          throw error;
        }
      }),
  };
}

/** Docker's log stream frames each chunk with an 8-byte header (stream, 0, 0, 0, length); TTY-less containers use it. */
export function demux(buffer: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (
    offset + 8 <= buffer.length &&
    (buffer[offset] === 1 || buffer[offset] === 2) &&
    buffer.readUInt16BE(offset + 1) === 0
  ) {
    const length = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return offset === buffer.length ? Buffer.concat(parts).toString('utf8') : buffer.toString('utf8');
}
