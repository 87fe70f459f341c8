/**
 * The one way user input (lab names, service names, option values, paths) is echoed: control characters
 * become visible escapes, so a crafted name cannot move the cursor, recolour the terminal or print a line of
 * its own (a fake "Fix:"). C0 and C1 controls, DEL, and the Unicode line separators and bidirectional
 * overrides are escaped; everything else, non-ASCII letters included, is kept.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what printable() escapes.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e' };

export function printable(text: string, max = Infinity): string {
  const shown = text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
  return shown.replace(CONTROL, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A name the user typed (lab, service, option value), shortened when absurdly long. */
export const printableName = (text: string): string => printable(text, 100);

/** For the runner's own multi-line text (a message with a log tail): every line made printable, the breaks kept. */
export function printableLines(text: string): string {
  return text
    .split('\n')
    .map((line) => printable(line))
    .join('\n');
}
