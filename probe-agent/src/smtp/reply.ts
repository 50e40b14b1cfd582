/**
 * SMTP reply parsing (RFC 5321 §4.2): multi-line replies ("250-…" lines, then "250 …"). Pure.
 */
export interface SmtpReply {
  code: number;
  lines: string[];
}

/** Takes whole reply lines off the front of `text`; returns the replies completed and what is left. */
export function takeReplies(text: string): { replies: SmtpReply[]; rest: string } {
  const replies: SmtpReply[] = [];
  let lines: string[] = [];
  let rest = text;
  for (;;) {
    const end = rest.indexOf('\n');
    if (end < 0) break;
    const line = rest.slice(0, end).replace(/\r$/, '');
    rest = rest.slice(end + 1);
    lines.push(line);
    // A line whose fourth character is not '-' ends the reply (a bare "250" too).
    if (line.length < 4 || line[3] !== '-') {
      replies.push({ code: Number.parseInt(line.slice(0, 3), 10) || 0, lines });
      lines = [];
    }
  }
  // Lines of an unfinished reply go back to the buffer.
  if (lines.length) rest = lines.map((l) => `${l}\r\n`).join('') + rest;
  return { replies, rest };
}

/** EHLO keywords, upper case, from a 250 reply (the first line is the server's name). */
export function ehloKeywords(reply: SmtpReply): string[] {
  return reply.lines
    .slice(1)
    .map((l) => l.slice(4).trim().split(/\s+/)[0]?.toUpperCase() ?? '')
    .filter((k) => k.length > 0);
}
