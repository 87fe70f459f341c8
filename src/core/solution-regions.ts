/**
 * Starter files and step solutions are rendered from one reference source, so they cannot drift apart.
 * A region belongs to a step and may nest:
 *
 *   // @lab-step 2
 *   // TODO: what the learner writes here (kept in the starter)
 *   ...reference code (kept once the step is solved)...
 *   // @lab-end
 *
 * Rendering with the set of solved steps keeps a solved region's code (minus markers and TODO lines) and
 * replaces an unsolved region by its TODO lines.
 */
// `//` for TypeScript and HCL, `#` for Rego and HCL: the marker of the @lab-step line is used for its default TODO.
const START = /^(\s*)(\/\/|#) @lab-step (\d+)\s*$/;
const END = /^\s*(?:\/\/|#) @lab-end\s*$/;
const TODO = /^\s*(?:\/\/|#) TODO/;

interface Region {
  step: number;
  indent: string;
  marker: string;
  todo: string[];
  body: Node[];
}
type Node = string | Region;

export class RegionSyntaxError extends Error {}

export function parseRegions(source: string): Node[] {
  const root: Node[] = [];
  const stack: Region[] = [];
  const lines = source.split('\n');
  lines.forEach((line, index) => {
    const start = START.exec(line);
    const target = stack.at(-1)?.body ?? root;
    if (start) {
      const region: Region = { step: Number(start[3]), indent: start[1]!, marker: start[2]!, todo: [], body: [] };
      target.push(region);
      stack.push(region);
    } else if (END.test(line)) {
      if (!stack.pop()) throw new RegionSyntaxError(`line ${index + 1}: @lab-end without @lab-step`);
    } else if (stack.length > 0 && TODO.test(line) && stack.at(-1)!.body.length === 0) {
      stack.at(-1)!.todo.push(line);
    } else {
      target.push(line);
    }
  });
  if (stack.length > 0) throw new RegionSyntaxError(`@lab-step ${stack.at(-1)!.step} is never closed with @lab-end`);
  return root;
}

export function renderRegions(source: string, solvedThrough: number): string {
  const out: string[] = [];
  const walk = (nodes: Node[]) => {
    for (const node of nodes) {
      if (typeof node === 'string') out.push(node);
      else if (node.step <= solvedThrough) walk(node.body);
      else out.push(...(node.todo.length > 0 ? node.todo : [`${node.indent}${node.marker} TODO (step ${node.step})`]));
    }
  };
  walk(parseRegions(source));
  return out.join('\n');
}

/** The steps that have a region in this source. */
export function stepsInSource(source: string): Set<number> {
  const steps = new Set<number>();
  const walk = (nodes: Node[]) => {
    for (const node of nodes) {
      if (typeof node !== 'string') {
        steps.add(node.step);
        walk(node.body);
      }
    }
  };
  walk(parseRegions(source));
  return steps;
}
