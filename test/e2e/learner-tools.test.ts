/**
 * Lab 1's learner tools end to end on the local runtime, against the real services: `lab mcp tools|call`,
 * `lab token`, `lab agent ask` (scripted, and with a local OpenAI-compatible endpoint that plans with tool
 * calls), `lab doctor`'s model line, stamped logs, and the end of the lab. One lab run, in order.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliIn, scratchHome } from '../helpers/cli.js';
import { planningModel, SCRIPTED_MODEL, scriptedChatEndpoint } from '../helpers/scripted-chat.js';

const LAB = 'mcp-integration';
const home = scratchHome();
const lab = cliIn(home);
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;
let chat: { url: string; requests: any[]; server: Server };

beforeAll(async () => {
  chat = await scriptedChatEndpoint(planningModel);
  const started = await lab('start', LAB, '--runtime', 'local');
  expect(started.exitCode, started.stderr).toBe(0);
});

afterAll(async () => {
  chat?.server.close();
  await lab('stop');
});

describe('learner tools on lab 1', () => {
  it('says the server declares no tools before step 1, with the fix (exit 2)', async () => {
    const result = await lab('mcp', 'tools');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('declares no tools yet');
    expect(result.stderr).toContain('mcp-server/tools.ts');
  });

  it('lists the tools with descriptions and input schemas, using a token got as the agent gets one', async () => {
    for (const step of ['1', '2', '3', '4']) expect((await lab('solve', step, '--yes')).exitCode).toBe(0);
    const result = await lab('mcp', 'tools');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^2 tools at http:\/\/127\.0\.0\.1:\d+\/mcp/);
    expect(result.stdout).toContain('search_documents');
    expect(result.stdout).toContain('get_document');
    expect(result.stdout).toContain('"required": [');
    expect(result.stderr).toContain('client credentials as agent-');
    const json = JSON.parse((await lab('mcp', 'tools', '--json')).stdout);
    expect(json.find((t: any) => t.name === 'search_documents').inputSchema.required).toEqual(['query']);
  });

  it('shows the 401 and its WWW-Authenticate challenge without a token or with a bad one, and the 403 without the scope', async () => {
    const none = await lab('mcp', 'tools', '--no-token');
    expect(none.exitCode).toBe(1);
    expect(none.stdout).toContain('HTTP 401 Unauthorized');
    expect(none.stdout).toMatch(
      /WWW-Authenticate: Bearer .*resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/,
    );
    const bad = await lab('mcp', 'call', 'search_documents', '{"query":"x"}', '--token', 'a.b.c');
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toContain('HTTP 401');
    expect(bad.stdout).toContain('refused this token');
    const unscoped = (await lab('token', '--raw', '--scope', '')).stdout.trim();
    expect(unscoped).toMatch(JWT);
    const forbidden = await lab('mcp', 'tools', '--token', unscoped);
    expect(forbidden.exitCode).toBe(1);
    expect(forbidden.stdout).toContain('HTTP 403 Forbidden');
    expect(forbidden.stdout).toContain('insufficient_scope');
  });

  it('calls a tool and prints its result; a tool error is exit 1; bad JSON and unknown tools are exit 2 with a fix', async () => {
    const ok = await lab('mcp', 'call', 'search_documents', '{"query":"SPIFFE ID", "top_k": 2}');
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/\[spiffe-\d+\]/);
    expect(ok.stdout).toContain('structuredContent:');
    const missing = await lab('mcp', 'call', 'get_document', '{"id":"no-such-doc"}');
    expect(missing.exitCode).toBe(1);
    expect(missing.stdout).toContain('isError: true');
    const badJson = await lab('mcp', 'call', 'search_documents', '{query: x}');
    expect(badJson.exitCode).toBe(2);
    expect(badJson.stderr).toContain('not valid JSON');
    expect(badJson.stderr).toContain('Fix:');
    const notObject = await lab('mcp', 'call', 'search_documents', '["x"]');
    expect(notObject.exitCode).toBe(2);
    expect(notObject.stderr).toContain('one JSON object');
    const unknown = await lab('mcp', 'call', 'delete_everything', '{}');
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('has no tool "delete_everything"');
    expect(unknown.stderr).toContain('search_documents, get_document');
  });

  it('mints a token and shows its header and the claims the server checks, never writing it to a service log', async () => {
    const shown = await lab('token');
    expect(shown.exitCode, shown.stderr).toBe(0);
    const token = shown.stdout.split('\n').find((l) => JWT.test(l))!;
    expect(token).toBeTruthy();
    expect(shown.stdout).toContain('"alg":"EdDSA"');
    expect(shown.stdout).toMatch(/aud\s+"http:\/\/127\.0\.0\.1:\d+\/mcp"/);
    expect(shown.stdout).toMatch(/scope\s+"docs:read"/);
    expect(shown.stdout).toMatch(/client_id\s+"agent-[0-9a-f]+"/);
    expect(shown.stdout).toMatch(/exp\s+\d+ = .*\(in \d+ s\)/);
    expect(shown.stdout).toContain('curl -i http://127.0.0.1:');
    const raw = (await lab('token', '--raw')).stdout.trim();
    expect(raw).toMatch(JWT);
    expect((await lab('mcp', 'tools', '--token', raw)).exitCode).toBe(0);
    const logs = path.join(home, LAB, '.lab', 'logs');
    for (const file of readdirSync(logs)) {
      const text = readFileSync(path.join(logs, file), 'utf8');
      expect(text.includes(token) || text.includes(raw), file).toBe(false);
    }
  });

  it('asks the agent with the scripted planner and says plainly that it is scripted', async () => {
    const result = await lab('agent', 'ask', 'How does a SPIRE agent attest a workload?');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('SCRIPTED');
    expect(result.stdout).toMatch(/Tools seen \(2, from tools\/list\)/);
    expect(result.stdout).toMatch(/→ calls search_documents .*SPIRE agent attest/);
    expect(result.stdout).toMatch(/Answer\s+\S/);
    expect(result.stdout).toContain('none: the scripted planner uses no model');
  });

  it('asks the agent with a model at an OpenAI-compatible endpoint: its tool choices, reasons, calls, answer and tokens', async () => {
    const before = chat.requests.length;
    const result = await lab('agent', 'ask', '--base-url', chat.url, 'What is a SPIFFE ID?');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`model ${SCRIPTED_MODEL} at ${chat.url} (from --base-url, no API key)`);
    expect(result.stdout).not.toContain('SCRIPTED:');
    expect(result.stdout).toMatch(/→ calls search_documents \{"query":"What is a SPIFFE ID\?"\}/);
    expect(result.stdout).toMatch(/why: scripted-planner: .*searches them/);
    expect(result.stdout).toMatch(/→ calls get_document \{"id":"spiffe-\d+"\}/);
    expect(result.stdout).toMatch(/Answer\s+According to the course documents, see \[spiffe-\d+\]/);
    expect(result.stdout).toMatch(/Tokens\s+\d+ prompt \+ \d+ completion = \d+ total over 3 model calls/);
    const sent = chat.requests.slice(before);
    expect(sent).toHaveLength(3);
    expect(sent[0].body.tools.map((t: any) => t.function.name).sort()).toEqual(['get_document', 'search_documents']);
    expect(sent[2].body.messages.filter((m: any) => m.role === 'tool')).toHaveLength(2);
  });

  it('says when the model endpoint does not answer (exit 2), and doctor reports the endpoint and its models', async () => {
    const down = await lab('agent', 'ask', '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', 'hello');
    expect(down.exitCode).toBe(2);
    expect(down.stderr).toContain('lab doctor');
    const doctor = await cliIn(home, { OPENAI_BASE_URL: chat.url })('doctor');
    expect(doctor.stdout).toContain(`model endpoint ${chat.url} answers; models: ${SCRIPTED_MODEL}`);
    const none = await lab('doctor');
    expect(none.stdout).toContain('no model endpoint (OPENAI_BASE_URL unset)');
  });

  it('stamps each service log line with a time and separates each start', async () => {
    const log = (await lab('logs', 'mcp-server', '-n', '1000')).stdout.split('\n');
    const separators = log.filter((l) => /^=== lab: mcp-server started \d{4}-\d\d-\d\dT[\d:.]+Z ===$/.test(l));
    expect(separators.length).toBeGreaterThanOrEqual(2);
    const rest = log.filter((l) => l.trim() !== '' && !l.startsWith('=== lab: '));
    expect(rest.length).toBeGreaterThan(0);
    for (const line of rest) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
  });

  it('ends the lab: the passing check says the lab is complete, and `lab next` at the end exits 0 saying what next', async () => {
    const check = await lab('check');
    expect(check.exitCode).toBe(0);
    expect(check.stdout).toContain('Lab mcp-integration is complete');
    for (let i = 0; i < 3; i++) expect((await lab('next')).exitCode).toBe(0);
    const end = await lab('next');
    expect(end.exitCode).toBe(0);
    expect(end.stdout).toContain('Lab mcp-integration is complete');
    expect(end.stdout).toContain('npx lab start secure-agents');
    expect(end.stdout).toContain('npx lab reset');
  });

  it('refuses every learner tool with exit 2 and a fix once the lab is stopped', async () => {
    expect((await lab('stop')).exitCode).toBe(0);
    for (const args of [['mcp', 'tools'], ['token'], ['agent', 'ask', 'hi']]) {
      const result = await lab(...args);
      expect(result.exitCode, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain('Fix:');
    }
  });
});
