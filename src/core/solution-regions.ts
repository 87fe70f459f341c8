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
 *
 * A starter must still compile (`lab test` type-checks it). Where removing a region would leave code that does not
 * (a function whose whole body is the region never returns), a `// @lab-starter <code>` line among the TODO lines
 * puts <code> in the starter in its place, e.g. `// @lab-starter throw new Error('protect() is step 4');`. It is
 * dropped once the step is solved.
 */
// `//` for TypeScript and HCL, `#` for Rego and HCL: the marker of the @lab-step line is used for its default TODO.
const START = /^(\s*)(\/\/|#) @lab-step (\d+)\s*$/;
const END = /^\s*(?:\/\/|#) @lab-end\s*$/;
const TODO = /^\s*(?:\/\/|#) TODO/;
const STARTER = /^(\s*)(?:\/\/|#) @lab-starter (.*)$/;

interface Region {
  step: number;
  indent: string;
  marker: string;
  todo: Line[];
  /** Line number (1-based) of the @lab-step marker: where a region's default TODO comes from. */
  line: number;
  body: Node[];
}
/** A source line and its 1-based number in the reference source. */
interface Line {
  text: string;
  line: number;
}
type Node = Line | Region;
const isLine = (node: Node): node is Line => 'text' in node;

export class RegionSyntaxError extends Error {}

export function parseRegions(source: string): Node[] {
  const root: Node[] = [];
  const stack: Region[] = [];
  const lines = source.split('\n');
  lines.forEach((line, index) => {
    const start = START.exec(line);
    const target = stack.at(-1)?.body ?? root;
    if (start) {
      const region: Region = {
        step: Number(start[3]),
        indent: start[1]!,
        marker: start[2]!,
        todo: [],
        line: index + 1,
        body: [],
      };
      target.push(region);
      stack.push(region);
    } else if (END.test(line)) {
      if (!stack.pop()) throw new RegionSyntaxError(`line ${index + 1}: @lab-end without @lab-step`);
    } else if (stack.length > 0 && stack.at(-1)!.body.length === 0 && (TODO.test(line) || STARTER.test(line))) {
      const starter = STARTER.exec(line);
      stack.at(-1)!.todo.push({ text: starter ? `${starter[1]}${starter[2]}` : line, line: index + 1 });
    } else {
      target.push({ text: line, line: index + 1 });
    }
  });
  if (stack.length > 0) throw new RegionSyntaxError(`@lab-step ${stack.at(-1)!.step} is never closed with @lab-end`);
  return root;
}

export function renderRegions(source: string, solvedThrough: number): string {
  return renderRegionsMapped(source, solvedThrough).text;
}

/**
 * The rendering and, for each of its lines, the line of the reference source it came from: `lab test` names the
 * reference source's line (what an author edits) when a rendering does not compile.
 */
export function renderRegionsMapped(source: string, solvedThrough: number): { text: string; sourceLines: number[] } {
  const out: Line[] = [];
  const walk = (nodes: Node[]) => {
    for (const node of nodes) {
      if (isLine(node)) out.push(node);
      else if (node.step <= solvedThrough) walk(node.body);
      else
        out.push(
          ...(node.todo.length > 0
            ? node.todo
            : [{ text: `${node.indent}${node.marker} TODO (step ${node.step})`, line: node.line }]),
        );
    }
  };
  walk(parseRegions(source));
  return { text: out.map((l) => l.text).join('\n'), sourceLines: out.map((l) => l.line) };
}

/** The steps that have a region in this source. */
export function stepsInSource(source: string): Set<number> {
  const steps = new Set<number>();
  const walk = (nodes: Node[]) => {
    for (const node of nodes) {
      if (!isLine(node)) {
        steps.add(node.step);
        walk(node.body);
      }
    }
  };
  walk(parseRegions(source));
  return steps;
}
