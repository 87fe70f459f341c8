import { describe, expect, it } from 'vitest';
import { parseRegions, RegionSyntaxError, renderRegions, stepsInSource } from '../../src/core/solution-regions.js';

const source = [
  'const a = 1;',
  '  // @lab-step 1',
  '  // TODO: write b',
  '  const b = 2;',
  '  // @lab-step 3',
  '  // TODO: write c',
  '  const c = 3;',
  '  // @lab-end',
  '  // @lab-end',
  '// @lab-step 2',
  'const d = 4;',
  '// @lab-end',
  'export {};',
].join('\n');

describe('solution regions', () => {
  it('renders the starter with TODOs in place of every region', () => {
    expect(renderRegions(source, 0)).toBe(
      ['const a = 1;', '  // TODO: write b', '// TODO (step 2)', 'export {};'].join('\n'),
    );
  });

  it('keeps solved regions without markers and leaves nested later steps as TODOs', () => {
    expect(renderRegions(source, 1)).toBe(
      ['const a = 1;', '  const b = 2;', '  // TODO: write c', '// TODO (step 2)', 'export {};'].join('\n'),
    );
    expect(renderRegions(source, 3)).toBe(
      ['const a = 1;', '  const b = 2;', '  const c = 3;', 'const d = 4;', 'export {};'].join('\n'),
    );
  });

  it('lists the steps a source touches', () => {
    expect([...stepsInSource(source)].sort()).toEqual([1, 2, 3]);
  });

  it('rejects unbalanced markers', () => {
    expect(() => parseRegions('// @lab-step 1\nx')).toThrow(RegionSyntaxError);
    expect(() => parseRegions('x\n// @lab-end')).toThrow(/line 2/);
  });
  it('supports # comments (Rego, HCL) and uses the region marker for the default TODO', () => {
    const rego = [
      'package p',
      '# @lab-step 3',
      '# TODO: write allow',
      'allow if true',
      '# @lab-end',
      '# @lab-step 4',
      'x := 1',
      '# @lab-end',
      '',
    ].join('\n');
    expect(renderRegions(rego, 0)).toBe(['package p', '# TODO: write allow', '# TODO (step 4)', ''].join('\n'));
    expect(renderRegions(rego, 4)).toBe(['package p', 'allow if true', 'x := 1', ''].join('\n'));
  });

  it('puts a @lab-starter line in the starter as code (so that it compiles) and drops it once solved', () => {
    const ts = [
      'export function f(): number {',
      '  // @lab-step 2',
      '  // TODO: return the answer',
      "  // @lab-starter throw new Error('f() is step 2');",
      '  return 42;',
      '  // @lab-end',
      '}',
    ].join('\n');
    expect(renderRegions(ts, 1)).toBe(
      [
        'export function f(): number {',
        '  // TODO: return the answer',
        "  throw new Error('f() is step 2');",
        '}',
      ].join('\n'),
    );
    expect(renderRegions(ts, 2)).toBe(['export function f(): number {', '  return 42;', '}'].join('\n'));
  });
});
