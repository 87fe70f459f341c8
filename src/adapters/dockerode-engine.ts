import type Docker from 'dockerode';
import { EnvironmentError } from '../core/errors.js';
import type { ContainerEngine } from '../core/ports.js';

/** Turns "the socket is not there / refuses" into the message a learner can act on. */
export function engineUnavailable(cause: unknown): EnvironmentError {
  return new EnvironmentError(
    `The Docker engine is not answering (${(cause as Error).message ?? String(cause)}).`,
    'Start Docker (Docker Desktop, `sudo systemctl start docker`, or `sudo dockerd &`), then run the command again; or use the local runtime: --runtime local.',
    { cause },
  );
}

const isConnectionError = (error: unknown) =>
  /ECONNREFUSED|ENOENT|EACCES|socket hang up|connect/.test(String((error as Error)?.message ?? error));

export function createDockerodeEngine(): ContainerEngine {
  // dockerode (with ssh2 and grpc behind it) loads only when a command talks to Docker: `lab --help` stays fast.
  let client: Docker | undefined;
  const connect = async () => (client ??= new (await import('dockerode')).default());
  const guard = async <T>(work: (docker: Docker) => Promise<T>): Promise<T> => {
    try {
      return await work(await connect());
    } catch (error) {
      throw isConnectionError(error) ? engineUnavailable(error) : error;
    }
  };
  return {
    async ping() {
      try {
        const docker = await connect();
        await Promise.race([
          docker.ping(),
          new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 1_500)),
        ]);
        return true;
      } catch {
        return false;
      }
    },
    version: () =>
      guard(async (docker) => {
        const v = await docker.version();
        return { server: v.Version, api: v.ApiVersion };
      }),
    containers: (label) =>
      guard(async (docker) =>
        (await docker.listContainers({ all: true, filters: { label: [label] } })).map((c) => ({
          id: c.Id,
          name: (c.Names[0] ?? '').replace(/^\//, ''),
          service: c.Labels['com.docker.compose.service'] ?? '',
          state: c.State,
          health: /\((healthy|unhealthy|health: starting)\)/.exec(c.Status)?.[1]?.replace('health: ', ''),
          labels: c.Labels,
        })),
      ),
    networks: (label) =>
      guard(async (docker) => (await docker.listNetworks({ filters: { label: [label] } })).map((n) => n.Name)),
    volumes: (label) =>
      guard(async (docker) =>
        ((await docker.listVolumes({ filters: { label: [label] } })).Volumes ?? []).map((v) => v.Name),
      ),
    removeAll: (label, { stopSeconds }) =>
      guard(async (docker) => {
        const refused: string[] = [];
        // 304: already stopped; 404: already gone; 409: another run is removing it. The caller's sweep after
        // this sees whatever is really left, so these are not errors here.
        const unless = (what: string) => (error: { statusCode?: number; message?: string }) => {
          if (![304, 404, 409].includes(error.statusCode ?? 0)) refused.push(`${what}: ${error.message ?? error}`);
        };
        const filters = { label: [label] };
        // In parallel, as compose does: each container waits out its own stop timeout, not the sum of them all.
        await Promise.all(
          (await docker.listContainers({ all: true, filters })).map(async (c) => {
            const container = docker.getContainer(c.Id);
            const name = (c.Names[0] ?? c.Id).replace(/^\//, '');
            if (c.State === 'running') await container.stop({ t: stopSeconds }).catch(unless(`container ${name}`));
            await container.remove({ v: true, force: true }).catch(unless(`container ${name}`));
          }),
        );
        // Networks and volumes only once no container holds them.
        const [networks, volumes] = await Promise.all([
          docker.listNetworks({ filters }),
          docker.listVolumes({ filters }).then((v) => v.Volumes ?? []),
        ]);
        await Promise.all([
          ...networks.map((n) =>
            docker
              .getNetwork(n.Id)
              .remove()
              .catch(unless(`network ${n.Name}`)),
          ),
          ...volumes.map((v) =>
            docker
              .getVolume(v.Name)
              .remove()
              .catch(unless(`volume ${v.Name}`)),
          ),
        ]);
        return refused;
      }),
    logs: (id) =>
      guard(async (docker) => {
        const raw = (await docker
          .getContainer(id)
          .logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
        return demux(raw);
      }),
    exec: (id, argv, { input, timeoutMs = 60_000 } = {}) =>
      guard(async (docker) => {
        const exec = await docker
          .getContainer(id)
          .exec({ Cmd: argv, AttachStdout: true, AttachStderr: true, AttachStdin: input !== undefined });
        const stream = await exec.start({ hijack: true, stdin: input !== undefined });
        const chunks: Buffer[] = [];
        const done = new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`${argv[0]} did not finish within ${timeoutMs / 1000} s`)),
            timeoutMs,
          );
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            clearTimeout(timer);
            resolve();
          });
          stream.on('error', (error) => {
            clearTimeout(timer);
            reject(error);
          });
        });
        if (input !== undefined) stream.end(input);
        await done;
        const { ExitCode } = await exec.inspect();
        return { exitCode: ExitCode ?? 1, output: demux(Buffer.concat(chunks)) };
      }),
    image: (ref) =>
      guard(async (docker) => {
        try {
          return (await docker.getImage(ref).inspect()).Config?.Labels ?? {};
        } catch (error) {
          if ((error as { statusCode?: number }).statusCode === 404) return undefined;
          throw error;
        }
      }),
  };
}

/** Docker's log stream frames each chunk with an 8-byte header (stream, 0, 0, 0, length); TTY-less containers use it. */
function demux(buffer: Buffer): string {
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
