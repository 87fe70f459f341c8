/** The last `count` lines of a text (a log, a program's output), trailing blank lines dropped. */
export function lastLines(text: string, count: number): string[] {
  return text.trimEnd().split('\n').slice(-count);
}
