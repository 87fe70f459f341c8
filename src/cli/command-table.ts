/**
 * The command table: every command of `lab`, in the order `lab --help` lists them. Each entry loads the
 * command's module (its declaration and its code) only when that command runs, so `lab <command>` loads one
 * module and `lab --version` none.
 */
import type { CommandDefinition } from '../commands/define.js';

export const COMMANDS: Record<string, () => Promise<CommandDefinition>> = {
  list: async () => (await import('../commands/list.js')).command,
  start: async () => (await import('../commands/start.js')).command,
  status: async () => (await import('../commands/status.js')).command,
  step: async () => (await import('../commands/step.js')).command,
  next: async () => (await import('../commands/next.js')).command,
  hint: async () => (await import('../commands/hint.js')).command,
  check: async () => (await import('../commands/check.js')).command,
  solve: async () => (await import('../commands/solve.js')).command,
  reset: async () => (await import('../commands/reset.js')).command,
  stop: async () => (await import('../commands/stop.js')).command,
  logs: async () => (await import('../commands/logs.js')).command,
  audit: async () => (await import('../commands/audit.js')).command,
  trace: async () => (await import('../commands/trace.js')).command,
  mcp: async () => (await import('../commands/mcp.js')).command,
  token: async () => (await import('../commands/token.js')).command,
  agent: async () => (await import('../commands/agent-ask.js')).command,
  spire: async () => (await import('../commands/spire.js')).command,
  identity: async () => (await import('../commands/identity.js')).command,
  opa: async () => (await import('../commands/opa-test.js')).command,
  doctor: async () => (await import('../commands/doctor.js')).command,
  test: async () => (await import('../commands/test.js')).command,
  images: async () => (await import('../commands/images.js')).command,
};
