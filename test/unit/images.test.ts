import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../src/core/errors.js';
import { aptMirror } from '../../src/images/build-local.js';
import { IMAGES, imageSpec, selectImage } from '../../src/images/catalog.js';
import { fakeEngine } from '../helpers/fake-engine.js';

const dir = mkdtempSync(path.join(tmpdir(), 'apt-'));
const file = (name: string, text: string) => {
  writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
};

describe('apt mirror discovery for debootstrap', () => {
  it('reads deb822 .sources stanzas', () => {
    const f = file(
      'a.sources',
      'Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n\nTypes: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n',
    );
    expect(aptMirror('bookworm', [f])).toBe('http://mirror.example/debian');
  });

  it('reads one-line .list entries, options included', () => {
    const f = file('b.list', '# comment\ndeb [arch=amd64] http://other.example/debian bookworm main\n');
    expect(aptMirror('bookworm', [f])).toBe('http://other.example/debian');
  });

  it('says what to do when no source has the suite', () => {
    const f = file('c.list', 'deb http://other.example/debian trixie main\n');
    expect(() => aptMirror('bookworm', [f])).toThrow(EnvironmentError);
  });
});

const engineWith = (images: string[]) => fakeEngine({ images });

describe('image selection', () => {
  it('pins upstream SPIRE and OPA versions, tags without "v"', () => {
    expect(imageSpec('spire-server').upstream).toBe('ghcr.io/spiffe/spire-server:1.15.3');
    expect(imageSpec('spire-agent').upstream).toBe('ghcr.io/spiffe/spire-agent:1.15.3');
    expect(imageSpec('opa').upstream).toMatch(/^openpolicyagent\/opa:1\.\d+\.\d+$/);
    expect(new Set(IMAGES.map((i) => i.env)).size).toBe(IMAGES.length);
  });

  it('prefers the override, then a local build, then the pinned upstream', async () => {
    const opa = imageSpec('opa');
    expect(await selectImage(opa, { LAB_OPA_IMAGE: 'mirror.example/opa:1' }, engineWith([]))).toBe(
      'mirror.example/opa:1',
    );
    expect(await selectImage(opa, {}, engineWith([opa.local]))).toBe(opa.local);
    expect(await selectImage(opa, {}, engineWith([]))).toBe(opa.upstream);
    expect(await selectImage(imageSpec('services'), {}, engineWith([]))).toBe(imageSpec('services').local);
  });
});
