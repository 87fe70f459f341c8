import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export interface FakeRegistry {
  url: string;
  /** Every path the registry was asked for. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * A registry on 127.0.0.1 that serves one package, `lab`, whose bin writes `marker`: the stand-in for the
 * unrelated public package of that name. If npx ever runs it, the marker file appears.
 */
export async function startFakeRegistry(marker: string): Promise<FakeRegistry> {
  const dir = mkdtempSync(path.join(tmpdir(), 'fake-registry-'));
  const pkg = path.join(dir, 'package');
  mkdirSync(pkg);
  writeFileSync(
    path.join(pkg, 'package.json'),
    JSON.stringify({ name: 'lab', version: '99.0.0', bin: { lab: 'bin.js' } }),
  );
  writeFileSync(
    path.join(pkg, 'bin.js'),
    `#!/usr/bin/env node\nrequire('fs').writeFileSync(${JSON.stringify(marker)}, 'the registry package ran');\nconsole.log('99.0.0');\n`,
    { mode: 0o755 },
  );
  await execa('tar', ['-czf', path.join(dir, 'lab.tgz'), '-C', dir, 'package']);
  const tarball = readFileSync(path.join(dir, 'lab.tgz'));
  const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
  const shasum = createHash('sha1').update(tarball).digest('hex');
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url === '/lab') {
      const version = {
        name: 'lab',
        version: '99.0.0',
        bin: { lab: 'bin.js' },
        dist: { tarball: `${base}/lab/-/lab-99.0.0.tgz`, integrity, shasum },
      };
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ name: 'lab', 'dist-tags': { latest: '99.0.0' }, versions: { '99.0.0': version } }));
    } else if (req.url === '/lab/-/lab-99.0.0.tgz') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tarball);
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
