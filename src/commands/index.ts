/**
 * The command table: every command of `lab`, in the order `lab --help` lists them. Each entry loads the
 * command's module (its declaration and its code) only when that command runs, so `lab <command>` loads one
 * module and `lab --version` none.
 */
import type { CommandDefinition } from './define.js';

export const COMMANDS: Record<string, () => Promise<CommandDefinition>> = {
  list: async () => (await import('./list.js')).command,
  start: async () => (await import('./start.js')).command,
  status: async () => (await import('./status.js')).command,
  step: async () => (await import('./step.js')).command,
  next: async () => (await import('./next.js')).command,
  hint: async () => (await import('./hint.js')).command,
  check: async () => (await import('./check.js')).command,
  solve: async () => (await import('./solve.js')).command,
  reset: async () => (await import('./reset.js')).command,
  stop: async () => (await import('./stop.js')).command,
  logs: async () => (await import('./logs.js')).command,
  audit: async () => (await import('./audit.js')).command,
  mcp: async () => (await import('./mcp.js')).command,
  token: async () => (await import('./token.js')).command,
  agent: async () => (await import('./agent-ask.js')).command,
  spire: async () => (await import('./spire.js')).command,
  identity: async () => (await import('./identity.js')).command,
  opa: async () => (await import('./opa-test.js')).command,
  doctor: async () => (await import('./doctor.js')).command,
  test: async () => (await import('./test.js')).command,
  images: async () => (await import('./images.js')).command,
};
