/**
 * Which OpenAI-compatible endpoint (Ollama, vLLM, LM Studio, OpenAI, ...) drives the agent: flags first, then the
 * environment (OPENAI_BASE_URL, OPENAI_MODEL, OPENAI_API_KEY). `lab agent ask` and `lab doctor` both ask here.
 * The key is read from the variable the learner names and is never printed.
 */
import { UsageError } from '../core/errors.js';

export interface ModelFlags {
  baseUrl?: string;
  model?: string;
  /** The name of the environment variable that holds the API key (default OPENAI_API_KEY). */
  apiKeyEnv?: string;
}

export interface ModelEndpoint {
  baseUrl: string;
  model?: string;
  apiKey?: string;
  apiKeyEnv: string;
  /** Where the base URL came from, said to the learner: "--base-url" or "OPENAI_BASE_URL". */
  source: string;
}

/** undefined: no endpoint configured (the scripted planner runs). */
export function resolveModelEndpoint(env: NodeJS.ProcessEnv, flags: ModelFlags = {}): ModelEndpoint | undefined {
  const baseUrl = flags.baseUrl ?? env.OPENAI_BASE_URL;
  if (!baseUrl) {
    if (flags.model !== undefined)
      throw new UsageError(
        '--model needs an endpoint to send it to.',
        'Add --base-url http://127.0.0.1:11434/v1 (Ollama; vLLM and LM Studio serve the same API) or set OPENAI_BASE_URL.',
      );
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new UsageError(
      `The model endpoint "${baseUrl.slice(0, 200)}" is not a URL.`,
      'Give the API root, e.g. --base-url http://127.0.0.1:11434/v1 (it ends before /chat/completions).',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(
      `The model endpoint must be http or https, not ${url.protocol}.`,
      'Give the API root, e.g. --base-url http://127.0.0.1:11434/v1.',
    );
  const apiKeyEnv = flags.apiKeyEnv ?? 'OPENAI_API_KEY';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(apiKeyEnv))
    throw new UsageError(
      `--api-key-env takes the name of an environment variable, not "${apiKeyEnv.slice(0, 40)}…".`,
      'Put the key in a variable (export MY_KEY=...) and pass --api-key-env MY_KEY: a key typed on the command line ends up in shell history.',
    );
  return {
    baseUrl: baseUrl.replace(/\/$/, ''),
    model: flags.model ?? env.OPENAI_MODEL,
    apiKey: env[apiKeyEnv] || undefined,
    apiKeyEnv,
    source: flags.baseUrl ? '--base-url' : 'OPENAI_BASE_URL',
  };
}

export type ModelProbe = { reachable: true; models: string[] | undefined } | { reachable: false; error: string };

/** GET <base>/models: reachable or not, and the model ids when the endpoint lists them (some do not). */
export async function probeModels(endpoint: ModelEndpoint, timeoutMs = 5_000): Promise<ModelProbe> {
  try {
    const response = await fetch(`${endpoint.baseUrl}/models`, {
      headers: endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) return { reachable: true, models: undefined };
    const body = (await response.json().catch(() => undefined)) as { data?: Array<{ id?: unknown }> } | undefined;
    const models = body?.data?.map((m) => m.id).filter((id): id is string => typeof id === 'string');
    return { reachable: true, models };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { reachable: false, error: cause ?? (error as Error).message };
  }
}

/** `lab doctor`'s line about the model: none (scripted), reachable with its models, or not answering. Never a failure: no lab needs a model. */
export async function modelFinding(
  env: NodeJS.ProcessEnv,
): Promise<{ id: 'model'; status: 'ok' | 'warn'; message: string; fix?: string }> {
  let endpoint: ModelEndpoint | undefined;
  try {
    endpoint = resolveModelEndpoint(env);
  } catch (error) {
    return {
      id: 'model',
      status: 'warn',
      message: `OPENAI_BASE_URL is unusable: ${(error as Error).message}`,
      fix: (error as UsageError).fix,
    };
  }
  if (!endpoint) {
    return {
      id: 'model',
      status: 'ok',
      message: 'no model endpoint (OPENAI_BASE_URL unset): `lab agent ask` runs the scripted planner',
      fix: undefined,
    };
  }
  const probe = await probeModels(endpoint);
  if (!probe.reachable) {
    return {
      id: 'model',
      status: 'warn',
      message: `model endpoint ${endpoint.baseUrl} does not answer (${probe.error})`,
      fix: 'Start the model server (e.g. `ollama serve`), or correct OPENAI_BASE_URL (the API root, ending in /v1).',
    };
  }
  const listed =
    probe.models === undefined
      ? 'it does not list models at /models'
      : `models: ${probe.models.slice(0, 10).join(', ') || '(none)'}${probe.models.length > 10 ? ', …' : ''}`;
  const missing = endpoint.model !== undefined && probe.models !== undefined && !probe.models.includes(endpoint.model);
  return {
    id: 'model',
    status: missing ? 'warn' : 'ok',
    message: `model endpoint ${endpoint.baseUrl} answers; ${listed}; OPENAI_MODEL ${endpoint.model ?? 'unset (the first listed is used)'}${endpoint.apiKey ? '; API key set' : ''}`,
    fix: missing
      ? `${endpoint.model} is not among the endpoint's models: set OPENAI_MODEL to one of them (Ollama: \`ollama pull ${endpoint.model}\`).`
      : undefined,
  };
}
