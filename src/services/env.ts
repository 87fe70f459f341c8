/**
 * A service's configuration from its environment. An empty variable counts as unset (compose passes `X=` for
 * an unset host variable): the fallback applies, and without one the service stops, naming what is missing.
 * Lab 1's mcp-server/server.ts writes its own: it is a learner file, which can import only its own folder.
 */
export function requiredEnv(service: string, name: string, fallback?: string): string {
  const value = process.env[name] || fallback;
  if (!value) throw new Error(`${service}: environment variable ${name} is required`);
  return value;
}

/** requiredEnv for one service: `const env = serviceEnv('auth-server'); env('PORT')`. */
export const serviceEnv =
  (service: string) =>
  (name: string, fallback?: string): string =>
    requiredEnv(service, name, fallback);
