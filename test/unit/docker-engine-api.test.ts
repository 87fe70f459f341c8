import { describe, expect, it } from 'vitest';
import { createDockerEngine, demux, engineEndpoint } from '../../src/adapters/docker-engine-api.js';
import { EnvironmentError } from '../../src/core/errors.js';

describe('the Docker Engine API adapter without an engine', () => {
  it('reads DOCKER_HOST as the docker CLI does, and refuses what it cannot reach', () => {
    expect(engineEndpoint(undefined)).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(engineEndpoint('unix:///run/user/1000/docker.sock')).toEqual({ socketPath: '/run/user/1000/docker.sock' });
    expect(engineEndpoint('tcp://127.0.0.1:2375')).toEqual({ host: '127.0.0.1', port: 2375 });
    expect(() => engineEndpoint('ssh://me@host')).toThrow(EnvironmentError);
  });

  it('answers ping with false and every other call with the "start Docker" fix when nothing listens', async () => {
    const engine = createDockerEngine({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    expect(await engine.ping()).toBe(false);
    const error = await engine.containers('x=y').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as EnvironmentError).message).toMatch(/The Docker engine is not answering/);
  });

  it('splits the engine framed log stream, and keeps a TTY stream as it came', () => {
    const frame = (stream: number, text: string) => {
      const body = Buffer.from(text);
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(body.length, 4);
      return Buffer.concat([header, body]);
    };
    expect(demux(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]))).toBe('out\nerr\n');
    expect(demux(Buffer.from('plain text\n'))).toBe('plain text\n');
  });
});
