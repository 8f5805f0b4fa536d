// What a terminal shows for some output, so tests can assert on the screen rather than on the
// escape sequences that drew it.

/**
 * The lines a terminal would show after `output`: `\r` returns to the line's start, `\n` starts a
 * new line, `ESC[K` clears to the end of the line, text overwrites; other escape sequences
 * (colours) are dropped. A last line with nothing on it is left out.
 */
export function screenOf(output: string): string[] {
  const lines: string[] = [];
  let line = "";
  let col = 0;
  for (const [token, csiFinal] of output.matchAll(/\x1b\[[0-9;?]*([A-Za-z])|\r|\n|[^\x1b\r\n]+/g)) {
    if (token === "\r") col = 0;
    else if (token === "\n") {
      lines.push(line);
      line = "";
      col = 0;
    } else if (csiFinal === "K") line = line.slice(0, col);
    else if (csiFinal === undefined) {
      line = line.slice(0, col).padEnd(col) + token + line.slice(col + token.length);
      col += token.length;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}
