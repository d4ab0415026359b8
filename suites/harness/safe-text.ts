/**
 * Text from a target, made safe for a terminal (and for XML and HTML, which cannot carry most control
 * characters anyway): every C0 control character except tab and newline, DEL and every C1 control
 * character becomes a visible escape, `\x1b` for C0 and DEL, `\u009b` for C1. A carriage return right
 * before a newline stays (CRLF line ends are harmless); a lone one would let a target overwrite the line
 * it is printed on, so it is escaped. A backslash is left alone: the escapes are for reading, not decoding.
 */

const CONTROL = /\r(?!\n)|[\u0000-\u0008\u000B-\u000C\u000E-\u001F\u007F-\u009F]/g;

export function safeText(text: string): string {
  return text.replace(CONTROL, escapeControl);
}

function escapeControl(ch: string): string {
  const code = ch.charCodeAt(0);
  const hex = code.toString(16).padStart(2, '0');
  return code >= 0x80 ? `\\u00${hex}` : `\\x${hex}`;
}
