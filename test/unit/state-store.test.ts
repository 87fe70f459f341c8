import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../src/core/errors.js';
import { newState, StateStore } from '../../src/core/state-store.js';

let dir: string;
let store: StateStore;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'state-'));
  store = new StateStore(path.join(dir, 'state.json'));
});

describe('state store', () => {
  it('round-trips state and leaves no temporary files', () => {
    const state = newState('mcp-integration', new Date('2026-01-01T00:00:00Z'));
    store.write(state);
    store.update((s) => (s.currentStep = 3));
    expect(store.read().currentStep).toBe(3);
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('reports a file that is not JSON as corrupt, with the fix, and does not replace it', () => {
    writeFileSync(store.file, '{"version": 1, "lab": ');
    expect(() => store.read()).toThrow(EnvironmentError);
    expect(() => store.read()).toThrow(/corrupt/);
    try {
      store.read();
    } catch (e) {
      expect((e as EnvironmentError).fix).toContain('lab reset');
    }
    expect(readFileSync(store.file, 'utf8')).toBe('{"version": 1, "lab": ');
  });

  it('reports JSON of the wrong shape and names the field', () => {
    writeFileSync(store.file, JSON.stringify({ ...newState('x', new Date()), currentStep: 0 }));
    expect(() => store.read()).toThrow(/currentStep/);
  });

  it('quarantines a corrupt file instead of deleting it', () => {
    writeFileSync(store.file, 'garbage');
    const moved = store.quarantine(new Date('2026-01-01T00:00:00Z'));
    expect(existsSync(store.file)).toBe(false);
    expect(readFileSync(moved!, 'utf8')).toBe('garbage');
  });

  it('bounds the check history but keeps counting attempts', () => {
    const state = newState('x', new Date());
    for (let i = 0; i < 250; i++) {
      state.attempts++;
      state.checkRuns.push({ at: `t${i}`, scope: 'all', durationMs: 1, passed: 0, failed: 1, results: [] });
    }
    store.write(state);
    const read = store.read();
    expect(read.checkRuns).toHaveLength(200);
    expect(read.checkRuns[0]!.at).toBe('t50');
    expect(read.attempts).toBe(250);
  });
});
