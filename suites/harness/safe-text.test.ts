import { describe, expect, it } from 'vitest';
import { safeText } from './safe-text.ts';

describe('safeText', () => {
  it('shows C0 (but tab and newline), DEL and C1 as visible escapes', () => {
    expect(safeText('a\u001b]0;title\u0007b')).toBe('a\\x1b]0;title\\x07b');
    expect(safeText('\u001b[2J\u007f\u0000')).toBe('\\x1b[2J\\x7f\\x00');
    expect(safeText('\u009b31m\u0085')).toBe('\\u009b31m\\u0085');
    expect(safeText('tab\there\nnext line')).toBe('tab\there\nnext line');
  });

  it('keeps CRLF line ends, escapes a lone carriage return (it would overwrite the line)', () => {
    expect(safeText('a\r\nb')).toBe('a\r\nb');
    expect(safeText('FAILED\r✓ passed')).toBe('FAILED\\x0d✓ passed');
  });

  it('leaves other text alone, non-ASCII included', () => {
    const text = 'é ü 日本 \u00a0 \u2028 [redacted:x#abcdef] \\x1b';
    expect(safeText(text)).toBe(text);
  });
});
