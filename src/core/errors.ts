/**
 * Every failure a user can meet is a LabError: a message saying what is wrong, a fix saying what to do next,
 * and the exit code it maps to. Only the entry point (src/cli/main.ts) turns one into an exit.
 */
export const ExitCode = {
  ok: 0,
  checksFailed: 1,
  usage: 2,
  environment: 2,
} as const;

export class LabError extends Error {
  constructor(
    message: string,
    readonly fix: string,
    readonly exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The command line was wrong: an unknown lab, a bad option, a step that does not exist. */
export class UsageError extends LabError {
  constructor(message: string, fix: string) {
    super(message, fix, ExitCode.usage);
  }
}

/** The machine or the lab's environment is not as needed: a busy port, a dead service, a corrupt state file. */
export class EnvironmentError extends LabError {
  constructor(message: string, fix: string, options?: { cause?: unknown }) {
    super(message, fix, ExitCode.environment, options);
  }
}

/** A lab definition under labs/ is invalid; names the file and the field. */
export class DefinitionError extends LabError {
  constructor(file: string, field: string, problem: string) {
    super(
      `${file}: ${field}: ${problem}`,
      `Correct the field in ${file}; the lab format is described in docs/lab-format.md.`,
      ExitCode.usage,
    );
  }
}

/**
 * `lab audit --verify` found no log, or a log whose hash chain is broken. Like a failed check it is a verdict
 * on the learner's lab, not a fault of the tool, so it carries exit code 1.
 */
export class AuditNotVerified extends LabError {
  constructor(message: string, fix: string) {
    super(message, fix, ExitCode.checksFailed);
  }
}

export function isLabError(error: unknown): error is LabError {
  return error instanceof LabError;
}
