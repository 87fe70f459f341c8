/**
 * A planner decides the agent's next move from the task, the tools the server advertised (names, descriptions,
 * JSON Schemas) and what happened so far. The agent never hard-codes a tool name: planners pick from schemas.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';

export interface ToolOutcome {
  tool: string;
  arguments: Record<string, unknown>;
  callId: string;
  isError: boolean;
  text: string;
  resultIds: string[];
}

export type PlannerAction =
  | { type: 'call'; tool: string; arguments: Record<string, unknown>; reason: string; callId: string }
  | { type: 'finish'; answer: string };

export interface Planner {
  readonly name: string;
  next(input: { task: string; tools: Tool[]; history: ToolOutcome[] }): Promise<PlannerAction>;
}

type Properties = Record<string, { type?: string; description?: string }>;

/** The required string parameter a tool takes, if any: where the task text or a document id goes. */
function requiredString(tool: Tool, preferred: RegExp): string | undefined {
  const props = (tool.inputSchema.properties ?? {}) as Properties;
  const required = tool.inputSchema.required ?? [];
  const candidates = required.filter((name) => props[name]?.type === 'string');
  return candidates.find((name) => preferred.test(name)) ?? candidates[0];
}

function describe(tool: Tool): string {
  return `${tool.name} ${tool.title ?? ''} ${tool.description ?? ''}`.toLowerCase();
}

/** An agent that only reads must never pick a tool that changes things, whatever its parameters look like. */
function mutates(tool: Tool): boolean {
  return (
    tool.annotations?.destructiveHint === true ||
    /\b(delete|remove|drop|write|update|create|send|post)/.test(describe(tool))
  );
}

/** Scores tools for "search by text": a required free-text parameter and search wording. */
export function chooseSearchTool(tools: Tool[]): { tool: Tool; param: string } | undefined {
  const scored = tools
    .map((tool) => {
      const param = requiredString(tool, /^(query|q|question|text|search|terms?)$/i);
      if (!param) return undefined;
      let score = /^(query|q|question|text|search|terms?)$/i.test(param) ? 3 : 0;
      if (/search|find|query|retriev|look ?up/.test(describe(tool))) score += 2;
      if (tool.annotations?.readOnlyHint) score += 1;
      return score > 0 && !mutates(tool) ? { tool, param, score } : undefined;
    })
    .filter((x) => x !== undefined)
    .sort((a, b) => b.score - a.score);
  return scored[0];
}

/** Scores tools for "read one document by id". */
export function chooseReaderTool(tools: Tool[], exclude: string): { tool: Tool; param: string } | undefined {
  const scored = tools
    .filter((tool) => tool.name !== exclude)
    .map((tool) => {
      const param = requiredString(tool, /^(id|document_?id|doc_?id)$/i);
      if (!param || !/id$/i.test(param) || mutates(tool)) return undefined;
      const score = /document|doc|read|get|fetch|open/.test(describe(tool)) ? 2 : 1;
      return { tool, param, score };
    })
    .filter((x) => x !== undefined)
    .sort((a, b) => b.score - a.score);
  return scored[0];
}

/** Deterministic default: search with the task, read the best hit if a reader tool exists, answer with citations. */
export function createDeterministicPlanner(): Planner {
  return {
    name: 'deterministic',
    async next({ task, tools, history }) {
      const search = chooseSearchTool(tools);
      if (!search)
        return { type: 'finish', answer: 'No tool on this server can search by text, so the task cannot be done.' };
      const searched = history.find((h) => h.tool === search.tool.name);
      if (!searched) {
        const props = (search.tool.inputSchema.properties ?? {}) as Properties;
        const limit = Object.keys(props).find(
          (p) => /^(top_?k|limit|k|max_?results)$/i.test(p) && props[p]?.type === 'integer',
        );
        return {
          type: 'call',
          tool: search.tool.name,
          arguments: { [search.param]: task, ...(limit ? { [limit]: 5 } : {}) },
          reason: `"${search.tool.name}" takes free text in "${search.param}" and describes itself as a search`,
          callId: 'call-1',
        };
      }
      if (searched.isError || searched.resultIds.length === 0) {
        return { type: 'finish', answer: `The search found nothing usable: ${searched.text.slice(0, 200)}` };
      }
      const reader = chooseReaderTool(tools, search.tool.name);
      const read = reader && history.find((h) => h.tool === reader.tool.name);
      if (reader && !read) {
        return {
          type: 'call',
          tool: reader.tool.name,
          arguments: { [reader.param]: searched.resultIds[0] },
          reason: `"${reader.tool.name}" reads a document by "${reader.param}"; reading the top hit ${searched.resultIds[0]}`,
          callId: 'call-2',
        };
      }
      const source = read && !read.isError ? read.text : searched.text;
      const excerpt = source.replace(/\s+/g, ' ').slice(0, 400);
      return { type: 'finish', answer: `${excerpt} [sources: ${searched.resultIds.slice(0, 3).join(', ')}]` };
    },
  };
}
