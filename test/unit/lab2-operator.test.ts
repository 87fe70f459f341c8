/** lab 2's operator commands without a lab: the spire-server command line, rotation times, the https:// status. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { duration, rotationOf } from '../../src/commands/identity.js';
import { spireArgv } from '../../src/commands/spire.js';

const SOCKET = ['-socketPath', '/run/spire/server/api.sock'];
const BIN = '/opt/spire/bin/spire-server';

describe('lab spire', () => {
  it("supplies the admin socket after the command words, before the learner's flags", () => {
    expect(spireArgv(['entry', 'show'])).toEqual([BIN, 'entry', 'show', ...SOCKET]);
    expect(spireArgv(['entry', 'create', '-spiffeID', 'spiffe://td/x', '-selector', 'docker:label:a:b'])).toEqual([
      BIN,
      'entry',
      'create',
      ...SOCKET,
      '-spiffeID',
      'spiffe://td/x',
      '-selector',
      'docker:label:a:b',
    ]);
    expect(spireArgv(['agent', 'list'])).toEqual([BIN, 'agent', 'list', ...SOCKET]);
    expect(spireArgv(['healthcheck'])).toEqual([BIN, 'healthcheck', ...SOCKET]);
  });

  it('leaves a socket the learner gave, and commands without one (help, version), as they are', () => {
    expect(spireArgv(['entry', 'show', '-socketPath', '/x.sock'])).toEqual([
      BIN,
      'entry',
      'show',
      '-socketPath',
      '/x.sock',
    ]);
    expect(spireArgv(['--help'])).toEqual([BIN, '--help']);
    expect(spireArgv(['--version'])).toEqual([BIN, '--version']);
  });

  it('refuses no command and `run` (a second server) as usage errors', () => {
    expect(() => spireArgv([])).toThrow(UsageError);
    expect(() => spireArgv(['run'])).toThrow(/second server/);
  });
});

describe('lab identity', () => {
  it('puts the rotation at half the SVID lifetime and says how far off it is', () => {
    const from = new Date('2026-11-24T12:00:00Z');
    const to = new Date('2026-11-24T13:00:00Z');
    expect(rotationOf(from, to, new Date('2026-11-24T12:20:00Z'))).toEqual({
      at: new Date('2026-11-24T12:30:00Z'),
      inSeconds: 600,
    });
    expect(rotationOf(from, to, new Date('2026-11-24T12:40:00Z')).inSeconds).toBe(-600);
    expect(duration(600)).toBe('in 10 min 0 s');
    expect(duration(-45)).toBe('45 s ago');
    expect(duration(7260)).toBe('in 2 h 1 min');
  });
});
