/** Fast tests of the core's pure logic: the JUnit report, the start order, the solve plan and the runtime choice. */
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckReport } from '../../src/core/check-report.js';
import { toJUnit } from '../../src/core/check-report.js';
import { EnvironmentError, UsageError } from '../../src/core/errors.js';
import { loadLab, type LoadedLab } from '../../src/core/lab-catalog.js';
import type { ServiceDefinition } from '../../src/core/lab-definition.js';
import { workspacePaths } from '../../src/core/paths.js';
import type { ComposeTool } from '../../src/core/ports.js';
import { planSolve } from '../../src/core/workspace.js';
import { chooseRuntime } from '../../src/runtimes/create-runtime.js';
import { startOrder } from '../../src/runtimes/service-graph.js';
import { fakeEngine } from '../helpers/fake-engine.js';

const report = (overrides: Partial<CheckReport> = {}): CheckReport => ({
  schemaVersion: 1,
  lab: 'demo',
  runtime: 'local',
  workspace: '/tmp/w',
  scope: 'all',
  currentStep: 1,
  startedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 1500,
  verdict: 'fail',
  summary: { total: 2, passed: 1, failed: 1 },
  steps: [
    {
      number: 1,
      id: 'build',
      title: 'Build <it> & "ship"',
      verdict: 'fail',
      checks: [
        { id: 'ok-check', title: 'passes', status: 'pass', message: 'fine', durationMs: 250 },
        { id: 'bad-check', title: 'fails', status: 'fail', message: 'got <b> & "c"', fix: "use 'd'", durationMs: 1250 },
      ],
    },
  ],
  ...overrides,
});

describe('toJUnit', () => {
  it('writes one suite per step and one case per check, failures with message and fix', () => {
    const xml = toJUnit(report());
    expect(xml).toContain('<testsuites name="demo" tests="2" failures="1" time="1.500">');
    expect(xml).toContain(
      '<testsuite name="1. Build &lt;it&gt; &amp; &quot;ship&quot;" tests="2" failures="1" time="1.500">',
    );
    expect(xml).toContain('<testcase classname="demo.build" name="ok-check" time="0.250"/>');
    expect(xml).toContain(
      '<failure type="fail" message="got &lt;b&gt; &amp; &quot;c&quot;">got &lt;b&gt; &amp; &quot;c&quot;\nFix: use &apos;d&apos;</failure>',
    );
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
  });

  it('counts an error (not only a failure) as failed, and writes no failure for a pass', () => {
    const errored = report();
    errored.steps[0]!.checks[1]!.status = 'error';
    expect(toJUnit(errored)).toContain('<failure type="error"');
    const passing = report({ summary: { total: 1, passed: 1, failed: 0 } });
    passing.steps[0]!.checks = [passing.steps[0]!.checks[0]!];
    expect(toJUnit(passing)).not.toContain('<failure');
  });
});

const service = (name: string, dependsOn?: string[]): ServiceDefinition => ({
  name,
  role: 'lab',
  env: () => ({}),
  dependsOn,
});

describe('startOrder', () => {
  it('puts every service after the ones it depends on, keeping the given order otherwise', () => {
    const order = startOrder([
      service('agent', ['mcp']),
      service('mcp', ['index', 'auth']),
      service('index'),
      service('auth'),
    ]);
    expect(order.map((s) => s.name)).toEqual(['index', 'auth', 'mcp', 'agent']);
  });

  it('lists a shared dependency once', () => {
    expect(startOrder([service('a', ['c']), service('b', ['c']), service('c')]).map((s) => s.name)).toEqual([
      'c',
      'a',
      'b',
    ]);
  });

  it('names the whole cycle', () => {
    expect(() => startOrder([service('a', ['b']), service('b', ['c']), service('c', ['a'])])).toThrow(
      'dependency cycle: a -> b -> c -> a',
    );
    expect(() => startOrder([service('self', ['self'])])).toThrow('dependency cycle: self -> self');
  });
});

describe('planSolve', () => {
  const setup = async () => {
    const lab = await loadLab('mcp-integration');
    const paths = workspacePaths(mkdtempSync(path.join(tmpdir(), 'plan-')), lab.definition.id);
    return { lab, paths };
  };

  it('plans every file with a region of the step, all new in an empty workspace', async () => {
    const { lab, paths } = await setup();
    const plan = planSolve(lab, paths, 1);
    expect(plan.step).toBe(1);
    expect(plan.files.map((f) => f.path)).toContain('rag-index/collections.ts');
    for (const file of plan.files) {
      expect(file.differs).toBe(true);
      expect(file.learnerChanged).toBe(false);
      expect(file.content).not.toContain('@lab-step');
    }
  });

  it("tells the learner's own edits from the starter, and a file already solved from both", async () => {
    const { lab, paths } = await setup();
    const [first] = planSolve(lab, paths, 1).files;
    const target = path.join(paths.dir, first!.path);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, '// my own attempt\n');
    expect(planSolve(lab, paths, 1).files[0]).toMatchObject({ path: first!.path, learnerChanged: true, differs: true });
    writeFileSync(target, first!.content);
    expect(planSolve(lab, paths, 1).files[0]).toMatchObject({ learnerChanged: false, differs: false });
  });

  it('plans nothing for a step no file has a region of', async () => {
    const { lab, paths } = await setup();
    expect(planSolve(lab, paths, 99).files).toEqual([]);
  });
});

describe('chooseRuntime', () => {
  const lab = (runtimes: Array<'local' | 'docker'>): LoadedLab => ({
    dir: '/labs/demo',
    file: '/labs/demo/lab.ts',
    definition: {
      id: 'demo',
      title: 'Demo',
      summary: '',
      minutes: 1,
      runtimes,
      files: [],
      services: [],
      steps: [],
      dockerOnly: runtimes.includes('local') ? undefined : 'it needs SPIRE.',
    },
  });
  const compose: ComposeTool = { flavour: 'v1', version: '1.29.2', run: async () => ({ exitCode: 0, output: '' }) };
  const host = (engineUp: boolean, withCompose: boolean) => ({
    engine: fakeEngine({ up: engineUp }),
    compose: async () => (withCompose ? compose : undefined),
  });

  it('picks docker on auto when the engine answers and compose is installed, saying why', async () => {
    expect(await chooseRuntime(host(true, true), undefined, lab(['local', 'docker']))).toEqual({
      kind: 'docker',
      reason: 'the Docker engine answers and docker-compose 1.29.2 is installed',
    });
  });

  it('falls back to local on auto, naming what is missing', async () => {
    expect(await chooseRuntime(host(false, true), 'auto', lab(['local', 'docker']))).toEqual({
      kind: 'local',
      reason: 'no Docker engine answers, so the embedded local runtime is used',
    });
    expect((await chooseRuntime(host(true, false), 'auto', lab(['local', 'docker']))).reason).toBe(
      'no compose is installed, so the embedded local runtime is used',
    );
    expect((await chooseRuntime(host(true, true), 'auto', lab(['local']))).reason).toBe(
      'lab demo has no compose setup yet, so the embedded local runtime is used',
    );
  });

  it('honours --runtime, and refuses what the lab or the machine cannot do', async () => {
    expect((await chooseRuntime(host(true, true), 'local', lab(['local', 'docker']))).kind).toBe('local');
    await expect(chooseRuntime(host(true, true), 'local', lab(['docker']))).rejects.toThrow(UsageError);
    await expect(chooseRuntime(host(true, true), 'local', lab(['docker']))).rejects.toThrow(
      'cannot run on the local runtime. it needs SPIRE.',
    );
    await expect(chooseRuntime(host(false, true), 'docker', lab(['local', 'docker']))).rejects.toThrow(
      EnvironmentError,
    );
    await expect(chooseRuntime(host(true, false), 'docker', lab(['local', 'docker']))).rejects.toThrow(
      /Neither `docker compose`/,
    );
    await expect(chooseRuntime(host(true, true), 'docker', lab(['local']))).rejects.toThrow(
      'has no Docker compose setup',
    );
    await expect(chooseRuntime(host(false, false), 'auto', lab(['docker']))).rejects.toThrow(
      'Lab demo needs Docker, and the Docker engine is not answering.',
    );
  });
});
